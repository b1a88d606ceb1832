"""The component registry as the canvas and the validator see it: the component types, their category,
their config schema, validation and output branches — all derived from `engine.components.registry`, where
each type is one module (config schema + validate + branches + execute).

`Category` lives in `engine.components.category` (below the components, which import it); it is re-exported
here for the canvas and the validator. The specs are built on first use, and again after a type is registered.
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from engine.components import registry
from engine.components.base import Component
from engine.components.category import Category
from engine.components.meta import Meta

__all__ = ["REGISTRY", "Category", "ComponentSpec", "flow_audiences", "get_spec"]


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

    @property
    def meta(self) -> "Meta":
        """How the canvas shows the type (icon, blurb, summary line, starter config)."""
        return self.component.meta

    @property
    def sends(self) -> bool:
        """Whether the type hands messages to a channel."""
        return self.component.sends


_registry: dict[str, ComponentSpec] | None = None
_generation = -1


def _specs() -> dict[str, ComponentSpec]:
    """The specs of the registered types, rebuilt after a type is registered or removed."""
    global _registry, _generation
    if _registry is None or _generation != registry.generation:
        _registry = {t: ComponentSpec(c) for t, c in registry.COMPONENTS.items()}
        _generation = registry.generation
    return _registry


class _Specs(Mapping[str, ComponentSpec]):
    """A live view: always the types registered now (so `from ... import REGISTRY` never holds a stale copy)."""

    def __getitem__(self, component_type: str) -> ComponentSpec:
        return _specs()[component_type]

    def __iter__(self) -> Iterator[str]:
        return iter(_specs())

    def __len__(self) -> int:
        return len(_specs())


#: type -> spec, in palette order (built on first use)
REGISTRY: Mapping[str, ComponentSpec] = _Specs()


def get_spec(component_type: str) -> ComponentSpec | None:
    return _specs().get(component_type)


def flow_audiences(flow: Mapping[str, Any] | None) -> set[int]:
    """The audiences a flow's components bring into it (each type says which: `Component.audiences`)."""
    nodes = flow.get("nodes") if isinstance(flow, Mapping) else None
    out: set[int] = set()
    for node in nodes if isinstance(nodes, list) else []:
        spec = get_spec(str(node.get("type"))) if isinstance(node, dict) else None
        if spec is not None and isinstance(node.get("config"), dict):
            out.update(spec.component.audiences(node["config"]))
    return out
