"""Messages to a group on the channel layer (chat/replies/messages.py): delivered to every
member, and skipped, without the layer's work, when the in-memory layer has no member."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.test import override_settings

from chat.replies.messages import group_has_members, group_send

IN_MEMORY = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


@pytest.fixture
def in_memory() -> Iterator[InMemoryChannelLayer]:
    with override_settings(CHANNEL_LAYERS=IN_MEMORY):
        layer = get_channel_layer()
        assert isinstance(layer, InMemoryChannelLayer)
        yield layer


async def test_a_member_of_the_group_gets_the_message(in_memory: InMemoryChannelLayer) -> None:
    channel = await in_memory.new_channel("test.")
    await in_memory.group_add("reply-7", channel)
    assert group_has_members("reply-7")
    assert await group_send("reply-7", {"type": "reply.end", "seq": 3})
    assert await in_memory.receive(channel) == {"type": "reply.end", "seq": 3}


async def test_an_empty_group_costs_the_in_memory_layer_nothing(
    in_memory: InMemoryChannelLayer,
) -> None:
    assert not group_has_members("reply-8")
    # Not even the name check: the layer's group_send would refuse this name.
    assert await group_send("not a valid group name!", {"type": "reply.end"})
    assert in_memory.groups == {} and in_memory.channels == {}


async def test_a_member_that_left_gets_nothing(in_memory: InMemoryChannelLayer) -> None:
    channel = await in_memory.new_channel("test.")
    await in_memory.group_add("user-5", channel)
    await in_memory.group_discard("user-5", channel)
    assert not group_has_members("user-5")
    assert await group_send("user-5", {"type": "user.event"})
    assert in_memory.channels == {}


def test_a_shared_layer_may_have_members_elsewhere() -> None:
    redis_layer = {
        "default": {
            "BACKEND": "chat.server.layer.RedisChannelLayer",
            "CONFIG": {"hosts": [{"address": "redis://127.0.0.1:6379/0"}]},
        }
    }
    with override_settings(CHANNEL_LAYERS=redis_layer):
        assert group_has_members("reply-9")  # no call made: any process may hold a member
