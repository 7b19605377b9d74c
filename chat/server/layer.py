"""The channel layers: Redis, with a connection pool that waits instead of failing; and, for
one process, channels' in-memory layer, which skips a group that has no member.

redis-py's asyncio ConnectionPool (channels-redis's default) holds at most 100 connections
and raises MaxConnectionsError at once past that. A burst of 200 streams and generations in
one process wanted more at the same moment: group joins, syncs and end announcements failed,
and watchers in the other process heard nothing (a listener's failed join left its stream open
and silent). Here the pool is redis-py's BlockingConnectionPool: a call waits up to
`timeout` seconds for a free connection among `max_connections` (CHAT_REDIS_CONNECTIONS).
A call that still fails is survived by its caller: listeners and generations treat every
layer error as a lost message, which sequence numbers and the database make good.

The reply relay (chat/replies/relay.py) gets a pool of its own with the same settings.

With one process, most group messages (a reply's end, a user's event wake-ups) go to groups
with no member: nobody follows the reply through the layer, the user has no page open. The
in-memory layer's group_send would still sweep every channel and group for expired entries,
check the name and make a queue, to deliver nothing; `InMemoryChannelLayer` returns at once.
"""

from __future__ import annotations

from typing import Any

from channels.layers import InMemoryChannelLayer as BaseInMemoryChannelLayer
from channels_redis.core import RedisChannelLayer as BaseRedisChannelLayer
from django.conf import settings
from redis.asyncio import BlockingConnectionPool


class RedisChannelLayer(BaseRedisChannelLayer):  # type: ignore[misc]
    def create_pool(self, index: int) -> BlockingConnectionPool:
        return _pool(self.hosts[index])


class InMemoryChannelLayer(BaseInMemoryChannelLayer):  # type: ignore[misc]
    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        if self.groups.get(group):  # else no member: nothing to deliver, nothing to sweep for
            await super().group_send(group, message)


def layer_config() -> dict[str, Any]:
    layers: dict[str, Any] = settings.CHANNEL_LAYERS
    config: dict[str, Any] = layers["default"]["CONFIG"]
    return config


def redis_pool() -> BlockingConnectionPool:
    """A new pool to the layer's (first) Redis, with the layer's settings."""
    return _pool(layer_config()["hosts"][0])


def _pool(settings_of_host: dict[str, Any]) -> BlockingConnectionPool:
    host = dict(settings_of_host)
    return BlockingConnectionPool.from_url(host.pop("address"), **host)
