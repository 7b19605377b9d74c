"""The one-process channel layer (chat/server/layer.py): channels' in-memory layer, whose
group messages reach every member, and which skips a group that has no member without its
sweep, its name check and its queue."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from channels.layers import get_channel_layer
from django.test import override_settings

from chat.server.layer import InMemoryChannelLayer

IN_MEMORY = {"default": {"BACKEND": "chat.server.layer.InMemoryChannelLayer"}}


@pytest.fixture
def in_memory() -> Iterator[InMemoryChannelLayer]:
    with override_settings(CHANNEL_LAYERS=IN_MEMORY):
        layer = get_channel_layer()
        assert isinstance(layer, InMemoryChannelLayer)
        yield layer


async def test_a_member_of_the_group_gets_the_message(in_memory: InMemoryChannelLayer) -> None:
    channel = await in_memory.new_channel("test.")
    await in_memory.group_add("reply-7", channel)
    await in_memory.group_send("reply-7", {"type": "reply.end", "seq": 3})
    assert await in_memory.receive(channel) == {"type": "reply.end", "seq": 3}


async def test_an_empty_group_costs_the_layer_nothing(in_memory: InMemoryChannelLayer) -> None:
    # Not even the name check: channels' group_send would refuse this name.
    await in_memory.group_send("not a valid group name!", {"type": "reply.end"})
    assert in_memory.groups == {} and in_memory.channels == {}


async def test_a_member_that_left_gets_nothing(in_memory: InMemoryChannelLayer) -> None:
    channel = await in_memory.new_channel("test.")
    await in_memory.group_add("user-5", channel)
    await in_memory.group_discard("user-5", channel)
    await in_memory.group_send("user-5", {"type": "user.event"})
    assert in_memory.channels == {}
