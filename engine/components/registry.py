"""The one registry of component types: the canvas palette, the flow validator and the runtime all find a
component here. Adding a component type = adding its module to this package: every module is imported and each
concrete `Component` subclass it defines (one with a `type`) is registered, in palette order (category, then
`meta.order`). `register` adds a type defined elsewhere (tests, an extension package)."""

import importlib
import inspect
import pkgutil
from types import ModuleType

import engine.components as package  # this module's own package (already loaded when this runs)
from engine.components.base import Component
from engine.components.category import Category

_CATEGORY_ORDER = list(Category)


class UnknownComponent(KeyError):
    pass


def components_of(module: ModuleType) -> list[Component]:
    """An instance of each concrete component type defined in `module` (not the ones it imports)."""
    found = []
    for _, cls in inspect.getmembers(module, inspect.isclass):
        if (issubclass(cls, Component) and cls.__module__ == module.__name__ and not inspect.isabstract(cls)
                and "type" in vars(cls)):
            found.append(cls())
    return found


def discover(package: ModuleType) -> list[Component]:
    """Every component type defined in the modules of `package`, in palette order."""
    found: list[Component] = []
    for info in pkgutil.iter_modules(package.__path__):
        found += components_of(importlib.import_module(f"{package.__name__}.{info.name}"))
    return sorted(found, key=_palette_key)


def _palette_key(component: Component) -> tuple[int, int, str]:
    return _CATEGORY_ORDER.index(component.category), component.meta.order, component.type


def _check(component: Component) -> None:
    """Refuse a type that does not declare what every reader of the registry relies on."""
    missing = [name for name in ("type", "label", "category", "Config", "meta") if not hasattr(component, name)]
    if missing:
        raise TypeError(f"{type(component).__name__} does not declare {', '.join(missing)}")


def _load() -> dict[str, Component]:
    out: dict[str, Component] = {}
    for component in discover(package):
        _check(component)
        if component.type in out:
            raise TypeError(f"two component types are named '{component.type}'")
        out[component.type] = component
    return out


#: type -> component, in palette order
COMPONENTS: dict[str, Component] = _load()
#: changes whenever a type is added or removed (readers that derive tables from COMPONENTS cache on it)
generation = 0


def register(component: Component) -> Component:
    """Add a component type defined outside this package (it goes last in its palette group's order)."""
    global generation
    _check(component)
    if component.type in COMPONENTS:
        raise TypeError(f"a component type '{component.type}' is already registered")
    ordered = sorted([*COMPONENTS.values(), component], key=_palette_key)
    COMPONENTS.clear()
    COMPONENTS.update((c.type, c) for c in ordered)
    generation += 1
    return component


def unregister(component_type: str) -> None:
    """Remove a type added with `register` (tests clean up with it)."""
    global generation
    COMPONENTS.pop(component_type, None)
    generation += 1


def get_component(component_type: str) -> Component:
    """The component of a type; raises UnknownComponent (a KeyError) for an unknown type."""
    try:
        return COMPONENTS[component_type]
    except KeyError:
        raise UnknownComponent(f"Unknown component type '{component_type}'") from None


def is_send(component_type: str) -> bool:
    """Whether a component type hands messages to a channel (False for an unknown type)."""
    component = COMPONENTS.get(component_type)
    return component is not None and component.sends


def send_types() -> frozenset[str]:
    """The types that send (what readers of send counters and per-customer send rows look for)."""
    return frozenset(t for t, c in COMPONENTS.items() if c.sends)
