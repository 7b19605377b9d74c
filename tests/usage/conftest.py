"""Fixtures of the usage tests: an administrator and their client, and prices."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.test import Client

from chat.models import ModelPrice
from tests.support.clients import PASSWORD


@pytest.fixture
def admin_user(db: None) -> User:
    return User.objects.create_superuser("root", password=PASSWORD)


@pytest.fixture
def admin_client(admin_user: User) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.fixture
def demo_price(db: None) -> ModelPrice:
    """demo at 2 per million input tokens and 10 per million output tokens."""
    return ModelPrice.objects.create(
        model="demo", input_per_million=Decimal("2"), output_per_million=Decimal("10")
    )
