"""The panel's rows of secret fields carry "set" / "not copied" / "" only: never the value, nor the stored id."""

import json
from dataclasses import asdict

from marketing_app.states import canvas_form as form

REF = {"$secret": "0123456789abcdef0123456789abcdef"}


def _rows(config: dict, replacing: set[str] | None = None) -> dict[str, form.FieldRow]:
    ctx = form.Context("webhook", replacing=replacing or set())
    return {f"{r.kind}:{r.value if r.kind.startswith('kv') else r.path}": r for r in form.rows("webhook", config, ctx)}


def test_secret_rows_show_the_state_never_the_value_or_the_reference() -> None:
    config = {"url": "https://x.example", "secret": REF,
              "headers": {"Authorization": {"$secret": None}, "X-Api-Key": "typed-key-1", "X-Source": "qa"}}
    rows = _rows(config)
    assert (rows["secret:secret"].value3, rows["secret:secret"].checked) == ("set", False)  # "set · replace"
    assert (rows["kv-secret:Authorization"].value3, rows["kv-secret:Authorization"].checked) == ("not copied", True)
    assert rows["kv-secret:X-Api-Key"].value3 == "set"  # a credential header by its name
    assert rows["kv:X-Source"].value2 == "qa"  # an ordinary header is an ordinary pair
    dumped = json.dumps([asdict(r) for r in rows.values()])
    assert REF["$secret"] not in dumped and "typed-key-1" not in dumped
    assert _rows(config, {"secret"})["secret:secret"].checked  # "replace" clicked: the box shows
    assert _rows({"url": "https://x.example"})["secret:secret"].value3 == ""  # not set: an empty box


def test_a_stored_marker_goes_where_the_box_was() -> None:
    config = {"headers": {"X-Source": "qa", "Authorization": ""}}
    assert form.secret_field_path(config, "headers", 1) == "headers.Authorization"
    assert form.set_secret_marker(config, "headers", 1, REF)["headers"] == {"X-Source": "qa", "Authorization": REF}
    assert form.set_secret_marker({}, "secret", -1, REF) == {"secret": REF}
