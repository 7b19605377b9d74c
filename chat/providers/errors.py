"""What goes wrong upstream: the one exception type, its kinds, and every sentence a user
reads about an upstream's failure, each written once (the HTTP and WebSocket providers
share them). No sentence holds a URL or a header, so no key can reach a user or a log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cache
from typing import Literal

from django.utils.translation import gettext


def gettext_noop(message: str) -> str:
    """Marks a sentence for translation (makemessages looks for this name) without needing
    Django's settings, which Django's own gettext_noop does: this module is imported before
    Django is set up (by the tests' fakes, by the render workers)."""
    return message


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
MODEL_UNAVAILABLE = gettext_noop("The model “%(model)s” is not available; pick another one.")


def model_unavailable(model_id: str) -> UpstreamError:
    return UpstreamError(MODEL_UNAVAILABLE % {"model": model_id}, "config")


# Every sentence, in English: a reply stores its error in English, beside the upstream's own
# words; `translated` gives it in the reader's language when a page shows it.
CONNECT_TIMEOUT = gettext_noop("Could not connect to %(provider)s: timed out.")
UNREACHABLE = gettext_noop("Could not connect to %(provider)s: it is unreachable.")
BAD_ADDRESS = gettext_noop("The address configured for %(provider)s is not valid.")
STOPPED_ANSWERING = gettext_noop("%(provider)s stopped answering (timed out).")
CLOSED_EARLY = gettext_noop("%(provider)s closed the connection before the reply was finished.")
FAILED_BECAUSE = gettext_noop("The connection to %(provider)s failed: %(cause)s.")
BROKE = gettext_noop("The connection to %(provider)s broke before the reply was finished.")
GAVE_UP = gettext_noop("%(provider)s stopped the reply before it was complete (%(reason)s).")
MALFORMED = gettext_noop("%(provider)s sent a malformed %(what)s.")
MID_REPLY = gettext_noop("%(provider)s reported an error mid-reply: %(words)s")
WITHHELD = gettext_noop("The provider withheld this reply (content filter: %(reason)s).")
WITHHELD_PLAIN = gettext_noop("The provider withheld this reply (content filter).")
SENTENCES = (
    CONNECT_TIMEOUT,
    UNREACHABLE,
    BAD_ADDRESS,
    STOPPED_ANSWERING,
    CLOSED_EARLY,
    FAILED_BECAUSE,
    BROKE,
    GAVE_UP,
    MALFORMED,
    MID_REPLY,
    WITHHELD,
    WITHHELD_PLAIN,
    MODEL_UNAVAILABLE,
)

# How an error the upstream answered with begins; " (HTTP 429): <its words>" or
# " (code 10013)." follows.
LEAD_AUTH = gettext_noop("%(provider)s refused the credentials")
LEAD_RATE_LIMIT = gettext_noop("%(provider)s is rate limiting requests; try again in a moment")
LEAD_QUOTA = gettext_noop("The %(provider)s account's quota is exhausted; retrying will not help")
LEAD_BLOCKED = gettext_noop("%(provider)s refused the content")
LEAD_CONTEXT_LENGTH = gettext_noop(
    "%(provider)s refused the conversation as longer than the model's context; "
    "start a new conversation"
)
LEAD_OVERLOADED = gettext_noop("%(provider)s is overloaded; try again in a moment")
LEAD_FAILED = gettext_noop("%(provider)s failed")
LEAD_REJECTED = gettext_noop("%(provider)s rejected the request")
LEAD_APP_ID = gettext_noop("%(provider)s refused this app id")
LEAD_REPORTED = gettext_noop("%(provider)s reported an error")
LEADS = (
    LEAD_AUTH,
    LEAD_RATE_LIMIT,
    LEAD_QUOTA,
    LEAD_BLOCKED,
    LEAD_CONTEXT_LENGTH,
    LEAD_OVERLOADED,
    LEAD_FAILED,
    LEAD_REJECTED,
    LEAD_APP_ID,
    LEAD_REPORTED,
)


def connect_timeout(provider: str) -> UpstreamError:
    return UpstreamError(CONNECT_TIMEOUT % {"provider": provider}, "timeout")


def unreachable(provider: str) -> UpstreamError:
    return UpstreamError(UNREACHABLE % {"provider": provider}, "unreachable")


def bad_address(provider: str) -> UpstreamError:
    return UpstreamError(BAD_ADDRESS % {"provider": provider}, "config")


def stopped_answering(provider: str) -> UpstreamError:
    return UpstreamError(STOPPED_ANSWERING % {"provider": provider}, "timeout")


def closed_early(provider: str) -> UpstreamError:
    return UpstreamError(CLOSED_EARLY % {"provider": provider}, "interrupted")


def broke(provider: str, cause: str = "") -> UpstreamError:
    if cause:
        return UpstreamError(FAILED_BECAUSE % {"provider": provider, "cause": cause}, "interrupted")
    return UpstreamError(BROKE % {"provider": provider}, "interrupted")


def gave_up(provider: str, raw_reason: str) -> UpstreamError:
    """A finish value that means the upstream gave up rather than finished."""
    return UpstreamError(GAVE_UP % {"provider": provider, "reason": raw_reason})


def malformed(provider: str, what: str = "chunk") -> UpstreamError:
    return UpstreamError(MALFORMED % {"provider": provider, "what": what}, "malformed")


def mid_reply(provider: str, words: str, kind: ErrorKind) -> UpstreamError:
    return UpstreamError(MID_REPLY % {"provider": provider, "words": words}, kind)


def withheld(raw_reason: str) -> str:
    return WITHHELD % {"reason": raw_reason} if raw_reason else WITHHELD_PLAIN


def lead(template: str, provider: str) -> str:
    return template % {"provider": provider}


def refusal_lead(provider: str, kind: ErrorKind) -> str:
    """How an error the upstream answered with begins (its words follow), for the kinds whose
    wording does not depend on the protocol; "" for the others."""
    template = {
        "auth": LEAD_AUTH,
        "rate_limit": LEAD_RATE_LIMIT,
        "quota": LEAD_QUOTA,
        "blocked": LEAD_BLOCKED,
        "context_length": LEAD_CONTEXT_LENGTH,
    }.get(kind)
    return lead(template, provider) if template else ""


def _pattern(template: str) -> str:
    """A sentence template as a regular expression: each %(name)s a named group."""
    parts = re.split(r"%\((\w+)\)s", template)
    return "".join(f"(?P<{part}>.+?)" if i % 2 else re.escape(part) for i, part in enumerate(parts))


@cache
def _patterns() -> list[tuple[re.Pattern[str], str, bool]]:
    found = [(re.compile(_pattern(t) + r"\Z", re.S), t, False) for t in SENTENCES]
    found += [
        (re.compile(_pattern(t) + r"(?P<rest> \((?:HTTP|code) \d+\)(?::.*|\.))\Z", re.S), t, True)
        for t in LEADS
    ]
    return found


def translated(text: str) -> str:
    """An upstream error's English text (as stored) in the current language: the site's own
    sentence translated, the names and the upstream's own words in it as they were. A text
    that is none of the sentences above is returned unchanged."""
    for pattern, template, has_rest in _patterns():
        if match := pattern.match(text):
            values = match.groupdict()
            rest = values.pop("rest", "") if has_rest else ""
            return gettext(template) % values + rest
    return text
