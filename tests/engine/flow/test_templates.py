"""The three strategy templates: complete shapes whose only open work is the key components."""

import pytest

from engine.flow import ops
from engine.flow.templates import TEMPLATES
from engine.flow.validate import validate_flow


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.key)
def test_template_needs_exactly_its_key_components(template) -> None:
    assert ops.open_links(template.flow) == []  # every link already ends in an End
    problems = validate_flow(template.flow)
    faulty = {p.node_id for p in problems}
    keys = {k.node_id for k in template.key_components}
    assert faulty and faulty <= keys, problems  # what is left to do is exactly what the hints name
    assert {k.action for k in template.key_components} <= {"View rules", "View content"}
    assert all(k.node_id in {n["id"] for n in template.flow["nodes"]} for k in template.key_components)


def test_three_templates_from_the_seed() -> None:
    assert [t.key for t in TEMPLATES] == ["new_member_first_order", "first_purchase_repurchase",
                                          "high_value_low_frequency"]
