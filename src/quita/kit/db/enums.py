"""Storing Python enums as portable strings (no native ENUM types, so SQLite and PostgreSQL match)."""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import Enum


def str_enum(enum_class: type[enum.Enum], length: int = 24) -> Any:
    return Enum(
        enum_class,
        native_enum=False,
        length=length,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )
