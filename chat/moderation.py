"""The moderation hook: is a text fit to send upstream, or to show?

CHAT_MODERATION chooses the checker:

- `off` (the default): nothing is checked;
- `words`: CHAT_MODERATION_WORDS, matched case-insensitively on word boundaries. A word's
  edge that is a CJK character needs no boundary (Chinese and Japanese do not put spaces
  between words), so 暴力 matches inside 这是暴力内容, and `bad` matches in 这是bad内容 but
  not in `badge`;
- `openai`: OpenAI's moderation endpoint at OPENAI_BASE_URL (chat/providers/moderation.py);
- a dotted path to a callable of this interface (sync or async):

      def check(text: str, kind: str) -> str | None

  `kind` is "message" (a user's message, before anything goes upstream) or "reply" (a batch
  of a streamed reply: a few sentences or a few hundred characters, with a little of the text
  before it). It returns the reason the text is refused (kept for administrators), or None.
  Raising means the service failed: CHAT_MODERATION_FAIL decides (`closed` refuses, `open`
  lets the text through), and the failure is logged either way. A sync callable runs in a
  thread, off the event loop.

Callers: the API checks a message before it stores or sends anything (`review_message`), and
a reply's generation checks its text in batches as it grows (chat/replies/review.py).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from chat.apiutil import ApiError
from chat.models import Conversation, ModerationFlag
from chat.providers.moderation import openai_moderation
from chat.server.process import in_request_thread

log = logging.getLogger(__name__)

Checker = Callable[[str, str], Awaitable[str | None]]

# Han, kana, Hangul syllables, CJK punctuation and full-width forms.
CJK = "\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef"
_NON_CJK_WORD = rf"[^\W{CJK}]"
_IS_NON_CJK_WORD = re.compile(_NON_CJK_WORD)


@dataclass(frozen=True, slots=True)
class Verdict:
    """A refusal: why, and whether it came from the service failing."""

    reason: str
    service_failed: bool = False


class WordList:
    """CHAT_MODERATION_WORDS, matched in the text's lower case. Most text holds none of the
    words, so a plain alternation of them is tried first (about 1 µs for a batch of 300
    characters); only a candidate is checked against the word boundaries, whose lookarounds
    at every position cost about 35 µs per batch."""

    def __init__(self, words: list[str]) -> None:
        listed = sorted({w.strip().lower() for w in words if w.strip()}, key=len, reverse=True)
        self.quick = re.compile("|".join(re.escape(w) for w in listed))
        parts = []
        for word in listed:
            left = rf"(?<!{_NON_CJK_WORD})" if _IS_NON_CJK_WORD.match(word[0]) else ""
            right = rf"(?!{_NON_CJK_WORD})" if _IS_NON_CJK_WORD.match(word[-1]) else ""
            parts.append(left + re.escape(word) + right)
        self.exact = re.compile("|".join(parts))

    def search(self, text: str) -> str | None:
        """The first listed word in `text` (in lower case), or None."""
        low = text.lower()
        if self.quick.search(low) is None:
            return None
        found = self.exact.search(low)
        return found.group(0) if found else None


def words_checker(words: list[str]) -> Checker:
    word_list = WordList(words)

    async def check(text: str, kind: str) -> str | None:
        found = word_list.search(text)
        return f"word “{found}”" if found else None

    return check


def _dotted_checker(path: str) -> Checker:
    target = import_string(path)
    if inspect.iscoroutinefunction(target):
        return target  # type: ignore[no-any-return]

    async def check(text: str, kind: str) -> str | None:
        result: str | None = await asyncio.to_thread(target, text, kind)
        return result

    return check


async def _openai(text: str, kind: str) -> str | None:
    reason = await openai_moderation(text)
    return f"OpenAI moderation: {reason}" if reason else None


@functools.cache
def _checker_for(mode: str, words: tuple[str, ...]) -> Checker | None:
    if mode == "off":
        return None
    if mode == "words":
        return words_checker(list(words))
    if mode == "openai":
        return _openai
    return _dotted_checker(mode)


def checker() -> Checker | None:
    """The configured checker, or None when moderation is off."""
    return _checker_for(settings.CHAT_MODERATION, tuple(settings.CHAT_MODERATION_WORDS))


async def check(text: str, kind: str) -> Verdict | None:
    """Run the checker, applying CHAT_MODERATION_FAIL when it fails. None: the text passes."""
    check_text = checker()
    if check_text is None:
        return None
    try:
        if settings.CHAT_MODERATION == "words":
            reason = await check_text(text, kind)  # a regex: no task and timer for a timeout
        else:
            timeout = settings.CHAT_MODERATION_TIMEOUT
            reason = await asyncio.wait_for(check_text(text, kind), timeout)
    except Exception as exc:  # any failure of the service, including a timeout
        closed = settings.CHAT_MODERATION_FAIL == "closed"
        log.warning(
            "moderation of a %s failed (%s); failing %s",
            kind,
            type(exc).__name__ if not str(exc) else str(exc),
            "closed: refused" if closed else "open: let through",
        )
        return Verdict("moderation service failed", service_failed=True) if closed else None
    return Verdict(str(reason)[:500]) if reason else None


def record(
    user: Any,
    kind: str,
    text: str,
    verdict: Verdict,
    conversation_id: int | None = None,
    message_id: int | None = None,
) -> None:
    """Keep what was stopped, for administrators. Sync."""
    if (
        conversation_id is not None
        and not Conversation.objects.filter(pk=conversation_id, owner=user).exists()
    ):
        conversation_id = None  # not theirs (the request is refused with 404 later anyway)
    ModerationFlag.objects.create(
        user=user,
        kind=kind,
        text=text,
        reason=verdict.reason,
        service_failed=verdict.service_failed,
        conversation_id=conversation_id,
        message_id=message_id,
    )


async def review_message(user: Any, text: object, conversation_id: int | None) -> None:
    """Check a user's message before anything is stored or sent; refuse it with an ApiError
    (422, or 503 when the service failed and moderation fails closed)."""
    if checker() is None or not isinstance(text, str) or not text.strip():
        return  # nothing to check; the usual validation answers a missing or bad text
    verdict = await check(text, ModerationFlag.Kind.MESSAGE)
    if verdict is None:
        return
    await in_request_thread(record)(
        user, ModerationFlag.Kind.MESSAGE, text, verdict, conversation_id
    )
    if verdict.service_failed:
        raise ApiError(
            _("Messages cannot be checked at the moment, so none are sent; try again later."),
            status=503,
        )
    raise ApiError(
        _("This message was not sent: it does not pass this site's content rules."), status=422
    )
