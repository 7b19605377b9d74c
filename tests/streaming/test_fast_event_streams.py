"""A reply's event stream answered below Django (chat/server/eventstream.py) is the one Django's
view answers (CHAT_FAST_EVENT_STREAMS=false): the same status, headers and bytes, in the
reader's language."""

from __future__ import annotations

import httpx
import pytest
from django.contrib.auth.models import User

from chat.models import Conversation, Message
from tests.support.clients import login_session
from tests.support.daphne import Daphne
from tests.support.rows import add_message

pytestmark = pytest.mark.django_db(transaction=True)

ERROR = "OpenAI stopped answering (timed out)."


def failed_reply(owner: User) -> Message:
    conv = Conversation.objects.create(owner=owner, model="openai:oa-plain", title="t")
    add_message(conv, role=Message.Role.USER, content="Hi")
    return add_message(
        conv,
        role=Message.Role.ASSISTANT,
        content="Then",
        html="<p>Then</p>",
        status=Message.Status.ERROR,
        error=ERROR,
        error_kind="timeout",
        finish_reason="error",
    )


def directives(policy: str) -> str:
    """A Content-Security-Policy in one order: each process's django-csp writes its
    directives in the order of a set, which varies with the process's hash seed."""
    return "; ".join(sorted(" ".join(sorted(d.split())) for d in policy.split(";")))


def test_the_stream_below_django_is_the_one_djangos_view_answers(
    daphne: Daphne, daphne_factory: type[Daphne], live_user: User
) -> None:
    through_django = daphne_factory(env={"CHAT_FAST_EVENT_STREAMS": "false"})
    reply = failed_reply(live_user)
    cookies = {"sessionid": login_session(live_user)}
    bodies = {}
    for language in ("en", "zh-hans"):
        answers = []
        for server in (daphne, through_django):
            answer = httpx.get(
                f"{server.url}/api/replies/{reply.pk}/events",
                headers={"Accept": "text/event-stream", "Accept-Language": language},
                cookies=cookies,
            )
            headers = {k: v for k, v in answer.headers.items() if k != "date"}
            headers["content-security-policy"] = directives(headers["content-security-policy"])
            answers.append((answer.status_code, headers, answer.content))
        assert answers[0] == answers[1], language
        assert answers[0][0] == 200 and answers[0][1]["content-language"] == language
        bodies[language] = answers[0][2].decode()
    assert ERROR in bodies["en"]
    assert ERROR not in bodies["zh-hans"] and "超时" in bodies["zh-hans"]
