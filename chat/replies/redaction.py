"""Keys never reach a reply's text: an upstream that echoes its credentials (a misbehaving
proxy, a prompt injection asking a model to repeat its headers) gets them replaced before the
text is streamed, checkpointed or saved.

The text arrives in pieces, and a key can be split between two of them. So the end of each
piece that could be the start of a key is held back until the next piece says whether it is
one (at most one key's length, and only when the piece really ends like a key begins); the
rest goes out at once. Errors are redacted where they are made (chat/providers/errors.py).
"""

from __future__ import annotations

REDACTED = "[redacted]"
MIN_SECRET = 8  # shorter "secrets" (an empty or placeholder key) would redact ordinary words


class Redactor:
    def __init__(self, secrets: tuple[str, ...]) -> None:
        self.secrets = tuple(sorted({s for s in secrets if len(s) >= MIN_SECRET}, key=len))[::-1]
        self.carry = ""

    def feed(self, text: str) -> str:
        if not self.secrets:
            return text
        text = self.carry + text
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        held = self._held(text)
        self.carry = text[len(text) - held :] if held else ""
        return text[: len(text) - held] if held else text

    def flush(self) -> str:
        carry, self.carry = self.carry, ""
        return carry

    def _held(self, text: str) -> int:
        """How much of the end of `text` could be the start of a secret."""
        held = 0
        for secret in self.secrets:
            first, start = secret[0], max(0, len(text) - len(secret) + 1)
            at = text.find(first, start)
            while at >= 0:
                if secret.startswith(text[at:]):
                    held = max(held, len(text) - at)
                    break  # the earliest start is the longest hold for this secret
                at = text.find(first, at + 1)
        return held
