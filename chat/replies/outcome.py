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

from chat.models import Message
from chat.providers.base import Finish
from chat.providers.errors import ErrorKind, UpstreamError

log = logging.getLogger(__name__)

# The site's own error texts, each written once. Stored with the reply (in English, like the
# upstreams' own messages they sit beside).
SERVER_RESTARTED = (
    "The server restarted while this reply was being written; the text up to then is kept."
)
SERVER_STOPPED = (
    "The server writing this reply stopped before it was finished; the text saved up to then "
    "is kept. You can retry."
)
SERVER_FAILED = "Something went wrong on the server while writing this reply."
REPLY_DELETED = "This reply was deleted."


def withheld(raw_reason: str) -> str:
    return "The provider withheld this reply (content filter" + (
        f": {raw_reason})." if raw_reason else ")."
    )


@dataclass(frozen=True, slots=True)
class Verdict:
    status: Message.Status
    finish: Finish
    error: str = ""
    error_kind: ErrorKind | None = None


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
        return Verdict(Message.Status.INTERRUPTED, Finish("", finish.raw), SERVER_RESTARTED)
    if stopped:
        return Verdict(Message.Status.STOPPED, Finish("", finish.raw))
    if failure is not None:
        error = _as_upstream_error(failure)
        return Verdict(Message.Status.ERROR, Finish("error", finish.raw), error.message, error.kind)
    if finish.reason == "content_filter" and not has_text:
        return Verdict(
            Message.Status.ERROR, Finish("error", finish.raw), withheld(finish.raw), "blocked"
        )
    return Verdict(Message.Status.COMPLETE, finish)


def _as_upstream_error(failure: BaseException) -> UpstreamError:
    if isinstance(failure, UpstreamError):
        return failure
    log.error("generation failed", exc_info=failure)
    return UpstreamError(SERVER_FAILED)
