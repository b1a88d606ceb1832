"""Column types shared by the tables."""

from enum import StrEnum

from sqlalchemy import Enum


def str_enum(enum_cls: type[StrEnum], length: int = 16) -> Enum:
    """Store a StrEnum as its value in a VARCHAR (no native DB enum: adding a value needs no migration
    gymnastics on PostgreSQL) and load it back as the enum member."""
    return Enum(enum_cls, native_enum=False, create_constraint=False, length=length,
                values_callable=lambda cls: [m.value for m in cls])
