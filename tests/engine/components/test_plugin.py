"""Adding a component type is one module: the Postcard type (tests/engine/components/postcard.py), registered and
nothing else touched, is known to the flow registry, validates, counts as a send for the runtime, may be read by a
Result Judgment and runs. (The canvas side: tests/marketing_app/test_component_plugin.py; a real round:
tests/engine/runtime/test_plugin_round.py.)"""

from collections.abc import Iterator

import pytest

from engine.components.registry import COMPONENTS, get_component, is_send, register, send_types, unregister
from engine.flow.registry import REGISTRY, Category, get_spec
from engine.flow.validate import validate_flow
from engine.runtime.step import metrics_for
from tests.engine.components import postcard
from tests.engine.components.conftest import MemoryPorts, customer, make_batch


@pytest.fixture
def card() -> Iterator[postcard.Postcard]:
    with postcard.registered() as component:
        yield component


def _flow(config: dict) -> dict:
    def node(nid: str, type_: str, **cfg: object) -> dict:
        return {"id": nid, "type": type_, "config": cfg, "position": {"x": 0, "y": 0}}

    return {"nodes": [node("t", "target_audience", audience_id=1), node("p", postcard.TYPE, **config),
                      node("r", "result_judgment", node_id="p",
                           groups=[{"conditions": [{"op": "eq", "value": "success"}]}]),
                      node("e1", "end"), node("e2", "end")],
            "edges": [{"source": "t", "branch": "out", "target": "p"}, {"source": "p", "branch": "out", "target": "r"},
                      {"source": "r", "branch": "group_1", "target": "e1"},
                      {"source": "r", "branch": "others", "target": "e2"}]}


def test_unknown_until_registered_and_gone_after() -> None:
    assert postcard.TYPE not in COMPONENTS and get_spec(postcard.TYPE) is None
    with postcard.registered():
        assert get_spec(postcard.TYPE) is not None
    assert postcard.TYPE not in REGISTRY and not is_send(postcard.TYPE)


def test_a_registered_type_is_in_the_registry_in_palette_order(card: postcard.Postcard) -> None:
    spec = REGISTRY[postcard.TYPE]
    assert spec.component is card and spec.label == "Postcard" and spec.category == Category.TOUCH
    touch = [t for t, s in REGISTRY.items() if s.category == Category.TOUCH]
    assert touch[-1] == postcard.TYPE  # order 100 (the default): after the built-in touches
    types = list(REGISTRY)
    assert types.index(postcard.TYPE) < types.index("wait_until")  # still inside its category's group
    with pytest.raises(TypeError, match="already registered"):
        register(postcard.Postcard())


def test_it_validates_with_its_schema_and_its_own_rules(card: postcard.Postcard) -> None:
    spec = REGISTRY[postcard.TYPE]
    assert spec.validate({}) == ["greeting: required"]
    assert spec.validate({"picture": "mountains", "greeting": "Hi {name"}) == [
        "greeting: unmatched brace; write variables as {name} or {attribute_key}",
        "peak: name the peak on a mountains postcard"]
    assert spec.validate({"picture": "moon", "greeting": "Hi"})[0].startswith("picture: Input should be")
    assert spec.validate({"greeting": "Hello {name}"}) == []
    assert spec.branches({}) == ["out"]
    # a flow with it publishes; a Result Judgment may read it because it sends
    assert validate_flow(_flow({"greeting": "Hello {name}"})) == []


def test_the_runtime_treats_it_as_a_send(card: postcard.Postcard) -> None:
    assert is_send(postcard.TYPE) and postcard.TYPE in send_types()
    ports = MemoryPorts()
    people = [customer(1, name="Ann"), customer(2, name="Bo", email=None)]
    outcome = card.execute(make_batch(people), card.parse({"greeting": "Hello {name}"}), ports)
    assert [(m.channel, m.to, m.body) for m in ports.sent] == [("email", "c1@example.com", "Hello Ann")]
    assert outcome.routes == {"out": [1, 2]} and outcome.results[2] == ("failed", "no email address")
    metrics = metrics_for(postcard.TYPE, card.category, 2, outcome)
    assert metrics["not_sent"] == 1 and metrics["passed"] == 2


def test_unregistering_a_builtin_is_seen_everywhere() -> None:
    """Readers derive from the registry each time (no table copied at import): a type taken away is gone."""
    tag = get_component("tag")
    unregister("tag")
    try:
        assert get_spec("tag") is None and "tag" not in REGISTRY
    finally:
        register(tag)
    assert list(REGISTRY).index("tag") == list(COMPONENTS).index("tag") == 8  # back in its palette place
