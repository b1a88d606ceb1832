"""What the Per version section and dialog show for a choice of version: every number beside its version's label,
"—" where the component is not in that version, "≈" on an estimate and a note saying so; an unknown choice falls
back to All versions."""

from engine.services import version_counters as svc
from marketing_app.states.version_counters import ESTIMATE_NOTE, EXACT_NOTE, view


def counters(kind: str = svc.EXACT) -> svc.VersionCounters:
    versions = [svc.VersionColumn(version_id=12, number=2, role=svc.LIVE, rounds=2, unique_kind=kind),
                svc.VersionColumn(version_id=11, number=1, role=svc.DRAINING, rounds=1, unique_kind=svc.EXACT)]
    out = svc.VersionCounters(activity_id=1, live_version_id=12, versions=versions)
    out.components = [
        svc.ComponentRow(node_id="sms", node_type="text_sms", label="Text SMS",
                         cells={12: svc.Cell(1234, 1000, kind), 11: svc.Cell(30, 30, svc.EXACT)},
                         total=svc.Cell(1264, 1020, kind), removed=False),
        svc.ComponentRow(node_id="w", node_type="wait_until", label="Wait Until",
                         cells={11: svc.Cell(30, 30, svc.EXACT)}, total=svc.Cell(30, 30, svc.EXACT), removed=True),
    ]
    return out


def test_every_number_carries_its_version() -> None:
    shown = view(counters(), "11", "sms")
    assert [o["label"] for o in shown["options"]] == ["All versions", "V2 (live)", "V1 (draining)"]
    assert shown["version_label"] == "V1 (draining)"
    current = shown["current"]
    assert (current["version"], current["entries"], current["unique"]) == ("V1 (draining)", "30", "30")
    assert [(r["version"], r["entries"], r["unique"]) for r in shown["node_rows"]] == [
        ("All versions", "1,264", "1,020"), ("V2 (live)", "1,234", "1,000"), ("V1 (draining)", "30", "30")]
    assert [(r["node"], r["entries"], r["removed"]) for r in shown["rows"]] == [("sms", "30", "false"),
                                                                                ("w", "30", "true")]
    assert shown["note"] == EXACT_NOTE


def test_a_component_not_in_the_version_shows_a_dash_and_estimates_say_so() -> None:
    shown = view(counters(svc.ESTIMATE), "12", "w")
    assert shown["current"]["present"] == "false" and shown["current"]["entries"] == "—"
    wait = next(r for r in shown["rows"] if r["node"] == "w")
    assert (wait["entries"], wait["unique"], wait["removed"]) == ("—", "—", "true")
    sms = next(r for r in shown["rows"] if r["node"] == "sms")
    assert (sms["unique"], sms["kind"]) == ("≈ 1,000", svc.ESTIMATE)
    assert shown["note"] == ESTIMATE_NOTE


def test_an_unknown_choice_shows_all_versions() -> None:
    shown = view(counters(), "999", "sms")
    assert (shown["selected"], shown["version_label"]) == (svc.ALL, "All versions")
