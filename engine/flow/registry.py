"""The component registry as the canvas and the validator see it: the 21 component types, their category,
their config schema, validation and output branches — all derived from `engine.components.registry`, where
each type is one module (config schema + validate + branches + execute).

`Category` lives in `engine.components.category` (below the components, which import it); it is re-exported
here for the canvas and the validator.
"""

from dataclasses import dataclass
from typing import Any

from engine.components.base import Component
from engine.components.category import Category
from engine.components.registry import COMPONENTS

__all__ = ["REGISTRY", "Category", "ComponentSpec", "get_spec"]


@dataclass(frozen=True)
class ComponentSpec:
    component: "Component"

    @property
    def type(self) -> str:
        return self.component.type

    @property
    def label(self) -> str:
        return self.component.label

    @property
    def category(self) -> Category:
        return self.component.category

    @property
    def is_trigger(self) -> bool:
        return self.category == Category.TRIGGER

    def branches(self, config: dict[str, Any]) -> list[str]:
        """Output branches for a raw config (also an incomplete one)."""
        return self.component.branches_of(config or {})

    def validate(self, config: dict[str, Any]) -> list[str]:
        """Configuration problems in words for the canvas (empty = configured: no red dot)."""
        return self.component.validate(config or {})

    def schema(self) -> dict[str, Any]:
        """JSON schema of the config, for the canvas form."""
        return self.component.schema()


#: type -> spec, in palette order (built on first access)
REGISTRY: dict[str, ComponentSpec]
_registry: dict[str, ComponentSpec] | None = None


def _specs() -> dict[str, ComponentSpec]:
    global _registry
    if _registry is None:
        _registry = {t: ComponentSpec(c) for t, c in COMPONENTS.items()}
    return _registry


def __getattr__(name: str) -> Any:
    if name == "REGISTRY":
        return _specs()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def get_spec(component_type: str) -> ComponentSpec | None:
    return _specs().get(component_type)
