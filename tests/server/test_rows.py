"""A row read by its primary key without a query built each time (chat/rows.py) is the row
the ORM reads: every field's value and type, on both databases the suite runs on."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db.models import Model
from django.utils import timezone

from chat import rows, user_events
from chat.models import Conversation, Message, UsageRecord, UserEvent
from tests.support.rows import streaming_reply

pytestmark = pytest.mark.django_db


def fields_of(instance: Model) -> dict[str, tuple[Any, type]]:
    return {
        f.attname: (getattr(instance, f.attname), type(getattr(instance, f.attname)))
        for f in type(instance)._meta.concrete_fields
    }


def test_each_field_reads_as_the_orm_reads_it() -> None:
    owner = User.objects.create_user("dora", password="a-passphrase-1", is_staff=True)
    owner.last_login = timezone.now() - timedelta(days=1)
    owner.save()
    conv = Conversation.objects.create(owner=owner, model="demo:echo", title="你好 “t”")
    reply = streaming_reply(conv)  # datetimes, nulls, a null parent and a set one
    Message.objects.filter(pk=reply.pk).update(input_tokens=12, context_from=reply.parent_id)
    user_events.emit(owner.pk, user_events.message_event(reply))  # a JSON field
    event = UserEvent.objects.filter(user=owner).latest("id")

    for model, pk in ((User, owner.pk), (Conversation, conv.pk), (Message, reply.pk)):
        read = rows.get(model, pk)
        assert read is not None and fields_of(read) == fields_of(model.objects.get(pk=pk))
        assert not read._state.adding and read._state.db == "default"
    read_event = rows.get(UserEvent, event.pk)
    assert read_event is not None and read_event.data == event.data
    assert isinstance(read_event.data, dict)
    assert rows.get(Message, reply.pk).created_at.tzinfo is not None  # type: ignore[union-attr]


def test_a_row_that_does_not_match_is_none() -> None:
    owner, other = User.objects.create_user("dora"), User.objects.create_user("eve")
    conv = Conversation.objects.create(owner=owner, model="demo:echo", title="t")
    assert rows.get(Conversation, conv.pk, owner_id=owner.pk) is not None
    assert rows.get(Conversation, conv.pk, owner_id=other.pk) is None
    assert rows.get(Conversation, conv.pk + 1000) is None


def test_an_update_writes_what_the_orm_writes() -> None:
    owner = User.objects.create_user("dora")
    conv = Conversation.objects.create(owner=owner, model="demo:echo", title="t")
    by_orm, by_rows = streaming_reply(conv), streaming_reply(conv)
    when = timezone.now() - timedelta(minutes=3)
    changes: dict[str, Any] = {
        "status": Message.Status.COMPLETE,
        "content": "你好，“world” \U0001f600\n",
        "input_tokens": 12,
        "output_tokens": None,
        "worker_channel": "",
        "heartbeat_at": None,
        "updated_at": when,
    }

    assert Message.objects.filter(pk=by_orm.pk).update(**changes) == 1
    assert rows.update(Message, changes, pk=by_rows.pk, status=Message.UNFINISHED) == 1

    orm, mine = Message.objects.get(pk=by_orm.pk), Message.objects.get(pk=by_rows.pk)
    assert {k: v for k, v in fields_of(mine).items() if k in changes} == {
        k: v for k, v in fields_of(orm).items() if k in changes
    }
    assert mine.updated_at == when and mine.content == changes["content"]


def test_an_update_changes_only_the_rows_that_match() -> None:
    owner = User.objects.create_user("dora")
    conv = Conversation.objects.create(owner=owner, model="demo:echo", title="t")
    reply, other = streaming_reply(conv), streaming_reply(conv)
    Message.objects.filter(pk=reply.pk).update(status=Message.Status.STOPPED)

    assert rows.update(Message, {"content": "late"}, pk=reply.pk, status=Message.UNFINISHED) == 0
    assert rows.update(Message, {"content": "x"}, pk=reply.pk, status="stopped") == 1
    assert rows.update(Conversation, {"title": "new"}, pk=conv.pk, owner_id=owner.pk + 1) == 0
    assert Message.objects.get(pk=reply.pk).content == "x"
    assert Message.objects.get(pk=other.pk).content == ""
    assert Conversation.objects.get(pk=conv.pk).title == "t"
    # A condition on a field other than the key: the reply's ledger row.
    assert rows.update(UsageRecord, {"output_tokens": 7}, reply_id=other.pk) == 1
    assert UsageRecord.objects.get(reply_id=other.pk).output_tokens == 7
    assert UsageRecord.objects.get(reply_id=reply.pk).output_tokens is None
