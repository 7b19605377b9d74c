"""Every error kind the site stores fits Message.error_kind (SQLite would not say; PostgreSQL
refuses the whole save, and the reply is then swept as interrupted)."""

from __future__ import annotations

from typing import get_args

import pytest

from chat.models import Message
from chat.providers.errors import ErrorKind
from chat.replies.outcome import OwnErrorKind


@pytest.mark.parametrize("kind", [*get_args(ErrorKind), *get_args(OwnErrorKind)])
def test_the_kind_fits_its_column(kind: str) -> None:
    assert len(kind) <= Message._meta.get_field("error_kind").max_length  # type: ignore[operator]
