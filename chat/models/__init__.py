"""The site's models, by subject: conversations and messages, upstream endpoints, usage
(limits, prices, the ledger), and activity (moderation flags, user events, preferences)."""

from chat.models.activity import ModerationFlag, Preferences, UserEvent
from chat.models.conversations import (
    Conversation,
    ConversationQuerySet,
    Message,
    MessageQuerySet,
)
from chat.models.endpoints import Endpoint, EndpointQuerySet
from chat.models.usage import ModelPrice, UsageRecord, UsageRecordQuerySet, UserLimits

__all__ = [
    "Conversation",
    "ConversationQuerySet",
    "Endpoint",
    "EndpointQuerySet",
    "Message",
    "MessageQuerySet",
    "ModelPrice",
    "ModerationFlag",
    "Preferences",
    "UsageRecord",
    "UsageRecordQuerySet",
    "UserEvent",
    "UserLimits",
]
