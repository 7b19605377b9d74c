"""What goes wrong upstream: the one exception type, its kinds, and every sentence a user
reads about an upstream's failure, each written once (the HTTP and WebSocket providers
share them). No sentence holds a URL or a header, so no key can reach a user or a log.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

# What went wrong upstream, as far as a user and the Retry button care. Retrying may help:
#   error        the upstream failed (5xx, a mid-reply error it calls temporary)
#   rate_limit   too many requests for now
#   timeout, unreachable, interrupted (the connection broke), malformed (a garbled chunk)
# Retrying the same request will not help:
#   rejected     the upstream refused the request as made (4xx)
#   auth, quota  the credentials, or the account's credit
#   blocked      the upstream refused the content
#   context_length  the conversation is longer than the model's context
#   config       nothing serves the model, or its address is not valid
ErrorKind = Literal[
    "error",
    "rate_limit",
    "timeout",
    "unreachable",
    "interrupted",
    "malformed",
    "rejected",
    "auth",
    "quota",
    "blocked",
    "context_length",
    "config",
]
RETRYABLE_KINDS: frozenset[str] = frozenset(
    {"error", "rate_limit", "timeout", "unreachable", "interrupted", "malformed"}
)


@dataclass
class UpstreamError(Exception):
    """An upstream failure, with a message fit to show a user (it never contains a key) and
    its kind, which the reply keeps (Message.error_kind): the page offers Retry only where
    retrying can help."""

    message: str
    kind: ErrorKind = "error"

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE_KINDS

    def redacted(self, *secrets: str) -> UpstreamError:
        """The same error with every secret replaced: some servers echo a key they refuse."""
        message = self.message
        for secret in secrets:
            if len(secret) >= 4:
                message = message.replace(secret, "[redacted]")
        return self if message == self.message else replace(self, message=message)


# Also said, translated, by the API when a message is sent to such a model (chat/api.py).
MODEL_UNAVAILABLE = "The model “%(model)s” is not available; pick another one."


def model_unavailable(model_id: str) -> UpstreamError:
    return UpstreamError(MODEL_UNAVAILABLE % {"model": model_id}, "config")


def connect_timeout(provider: str) -> UpstreamError:
    return UpstreamError(f"Could not connect to {provider}: timed out.", "timeout")


def unreachable(provider: str) -> UpstreamError:
    return UpstreamError(f"Could not connect to {provider}: it is unreachable.", "unreachable")


def bad_address(provider: str) -> UpstreamError:
    return UpstreamError(f"The address configured for {provider} is not valid.", "config")


def stopped_answering(provider: str) -> UpstreamError:
    return UpstreamError(f"{provider} stopped answering (timed out).", "timeout")


def closed_early(provider: str) -> UpstreamError:
    return UpstreamError(
        f"{provider} closed the connection before the reply was finished.", "interrupted"
    )


def broke(provider: str, cause: str = "") -> UpstreamError:
    if cause:
        return UpstreamError(f"The connection to {provider} failed: {cause}.", "interrupted")
    return UpstreamError(
        f"The connection to {provider} broke before the reply was finished.", "interrupted"
    )


def gave_up(provider: str, raw_reason: str) -> UpstreamError:
    """A finish value that means the upstream gave up rather than finished."""
    return UpstreamError(f"{provider} stopped the reply before it was complete ({raw_reason}).")


def malformed(provider: str, what: str = "chunk") -> UpstreamError:
    return UpstreamError(f"{provider} sent a malformed {what}.", "malformed")


def mid_reply(provider: str, words: str, kind: ErrorKind) -> UpstreamError:
    return UpstreamError(f"{provider} reported an error mid-reply: {words}", kind)


def refusal_lead(provider: str, kind: ErrorKind) -> str:
    """How an error the upstream answered with begins (its words follow), for the kinds whose
    wording does not depend on the protocol; "" for the others."""
    if kind == "auth":
        return f"{provider} refused the credentials"
    if kind == "rate_limit":
        return f"{provider} is rate limiting requests; try again in a moment"
    if kind == "quota":
        return f"The {provider} account's quota is exhausted; retrying will not help"
    if kind == "blocked":
        return f"{provider} refused the content"
    if kind == "context_length":
        return (
            f"{provider} refused the conversation as longer than the model's context; "
            "start a new conversation"
        )
    return ""
