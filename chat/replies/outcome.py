"""How a reply ended: the rules in one function, and the words of the site's own errors.

A generation's end is decided from what happened to it, in this order:

1. the process shut down while it ran: `interrupted` (its text so far is kept);
2. someone pressed Stop (or the reply was ended elsewhere): `stopped`;
3. the upstream failed: `error`, with the upstream error's message and kind;
4. the upstream ended on its content filter without a word: `error` (a refusal must not look
   like an empty success);
5. otherwise `complete`.

A failed reply's finish reason is `error`; one that did not complete keeps no finish reason,
only the provider's own value.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from django.utils.translation import gettext, gettext_noop

from chat.models import Message
from chat.providers import errors
from chat.providers.base import Finish
from chat.providers.errors import ErrorKind, UpstreamError

if TYPE_CHECKING:
    from chat.replies.messages import EndPayload

log = logging.getLogger(__name__)

# The site's own error texts, each written once, with their kinds. A reply stores the English
# text (like the upstreams' own messages it sits beside) and the kind; pages show the text in
# the reader's language (`explain`, and the page's strings for the `end` event).
SERVER_RESTARTED = gettext_noop(
    "The server restarted while this reply was being written; the text up to then is kept."
)
SERVER_STOPPED = gettext_noop(
    "The server writing this reply stopped before it was finished; the text saved up to then "
    "is kept. You can retry."
)
SERVER_FAILED = gettext_noop("Something went wrong on the server while writing this reply.")
REPLY_DELETED = gettext_noop("This reply was deleted.")
MODERATED = gettext_noop("This reply was stopped by the site's moderation.")
MODERATION_FAILED = gettext_noop(
    "This reply was stopped: the moderation service could not check it. You can retry."
)
# Said in place of the upstream's own words when it refuses a conversation as longer than
# the model's context (kind context_length, chat/providers/http.py).
TOO_LONG = gettext_noop(
    "This conversation is now longer than the model can read at once. Start a new "
    "conversation (you can paste a summary of this one), or pick a model with a larger context."
)

OwnErrorKind = Literal[
    "server_restarted",
    "server_stopped",
    "server_failed",
    "deleted",
    "moderated",
    "moderation_failed",
]
MODERATED_KINDS = frozenset({"moderated", "moderation_failed"})
ReplyErrorKind = ErrorKind | OwnErrorKind
OWN_ERRORS: dict[str, str] = {
    "server_restarted": SERVER_RESTARTED,
    "server_stopped": SERVER_STOPPED,
    "server_failed": SERVER_FAILED,
    "deleted": REPLY_DELETED,
    "moderated": MODERATED,
    "moderation_failed": MODERATION_FAILED,
    "context_length": TOO_LONG,
}


def explain(error_kind: str, error: str) -> str:
    """A reply's error as the reader should see it: the site's own, in their language."""
    own = OWN_ERRORS.get(error_kind)
    return gettext(own) if own else errors.translated(error)


def for_reader(payload: EndPayload) -> EndPayload:
    """An `end` event's data with an upstream error sentence in the reader's language (the
    current one); the site's own errors the page words itself, by kind (`explanations`)."""
    if not payload.get("error"):
        return payload
    return {**payload, "error": errors.translated(payload["error"])}


def explanations() -> dict[str, str]:
    """The site's own error texts in the current language, by kind (for the page's script)."""
    return {kind: gettext(text) for kind, text in OWN_ERRORS.items()}


def withheld(raw_reason: str) -> str:
    return errors.withheld(raw_reason)


@dataclass(frozen=True, slots=True)
class Verdict:
    status: Message.Status
    finish: Finish
    error: str = ""
    error_kind: ReplyErrorKind | None = None


def decide(
    *,
    shut_down: bool,
    stopped: bool,
    failure: BaseException | None,
    finish: Finish,
    has_text: bool,
) -> Verdict:
    """The outcome of a generation (the rules above)."""
    if shut_down:
        return Verdict(
            Message.Status.INTERRUPTED, Finish("", finish.raw), SERVER_RESTARTED, "server_restarted"
        )
    if stopped:
        return Verdict(Message.Status.STOPPED, Finish("", finish.raw))
    if isinstance(failure, UpstreamError):
        return Verdict(
            Message.Status.ERROR, Finish("error", finish.raw), failure.message, failure.kind
        )
    if failure is not None:
        log.error("generation failed", exc_info=failure)
        return Verdict(
            Message.Status.ERROR, Finish("error", finish.raw), SERVER_FAILED, "server_failed"
        )
    if finish.reason == "content_filter" and not has_text:
        return Verdict(
            Message.Status.ERROR, Finish("error", finish.raw), withheld(finish.raw), "blocked"
        )
    return Verdict(Message.Status.COMPLETE, finish)


def moderated(service_failed: bool, finish: Finish) -> Verdict:
    """The moderation hook stopped the reply (or, failing closed, could not check it)."""
    failed = Finish("error", finish.raw)
    if service_failed:
        return Verdict(Message.Status.ERROR, failed, MODERATION_FAILED, "moderation_failed")
    return Verdict(Message.Status.ERROR, failed, MODERATED, "moderated")
