"""The palette categories a component type belongs to. Here, below the components, so that each component
module and `engine.flow.registry` (built from the components) can import it without a cycle."""

from enum import StrEnum


class Category(StrEnum):
    TRIGGER = "Trigger Mode"
    TOUCH = "Marketing Touch"
    CONTROL = "Process Control"
    JUDGMENT = "Judgment Condition"
    DATA_PUSH = "Data Push"
