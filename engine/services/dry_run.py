"""Dry run (issue 16): the activity's current flow run against a sample of its real audience, or one customer
named by QAID, without sending anything, writing anything or touching Redis — so a marketer sees before
publishing how many would reach each component and branch, and who the flow would drop and why.

It is the engine's own walk, not a copy: `engine.runtime.step.traverse` (the pure routing) over the same
`Plan`, each component's own `execute` deciding over `DryRunPorts`. Those read the real data (events,
audiences, customers: judgments decide as they would) but send nothing (a message "would be sent" and counts
as a success for a later Result Judgment), write nothing (a Tag is kept in memory, so a later Tag Judgment sees
it) and keep no Redis state. Choices:
- the sample is the trigger's audience (Target Audience), spread over it by a fixed hash of the id
  (`shared.audiences.sample_members`), or — Behaviour Event — the customers who did the event within its window
  (N times, its filters), entering with their latest matching event's properties. A named customer enters a
  Behaviour Event flow as if the event came now; a Target Audience flow only if they are in the audience.
- splits (AB Test, Random Grouping) use the engine's deterministic `bucket` with record 0: the real round's
  record id is not known yet, so the groups' sizes match the ratios but not who lands where.
- a wait is passed through ("would wait until X"), the later components deciding as of now; a customer whose
  wait ends after the activity's end time is dropped there.
- "dropped" is every customer who leaves the flow without a message: the reason is the last thing that turned
  them away (a trigger's audience, a judgment's branch, a send without an address, a wait past the end).
"""

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session, col, select

from engine import clock
from engine.channels.base import Message, SendResult, SendStatus
from engine.components.base import Batch, CustomerView, Outcome
from engine.components.behavior_event import BehaviorEventConfig, event_matches, qualifying, window
from engine.components.category import Category
from engine.components.judging import OTHERS
from engine.errors import Invalid, NotFound
from engine.flow.graph import FlowGraph
from engine.flow.registry import get_spec
from engine.flow.validate import validate_flow
from engine.models import Activity, ActivityVersion, Audience, AudienceKind, BehaviorEvent, Customer, User
from engine.runtime.customers import load_view_map
from engine.runtime.ports import RuntimePorts
from engine.runtime.step import plan_for, traverse
from engine.services.activities import get_activity
from engine.services.moderation import banned_words
from engine.shared.audiences import CrowdDataError, count_members, members_among, sample_members

DEFAULT_SAMPLE = 1000
MAX_SAMPLE = 10_000
MAX_LISTED = 500  # drops listed one by one (all are counted)
MAX_EVENT_CANDIDATES = 50_000  # customers of a Behaviour Event sample looked at before the trigger's own check
DRY_RECORD = 0  # the record id a dry run's splits hash with (a real round's id is not known yet)


class DryRunDrop(BaseModel):
    customer_id: int
    qaid: str
    name: str
    node_id: str
    component: str  # the component's label on the canvas
    reason: str


class DryRunNode(BaseModel):
    reached: int = 0  # customers entering the component
    branches: dict[str, int] = {}  # branch → customers routed on it
    would_send: int = 0  # a touch / data push: messages that would be sent
    not_sent: int = 0  # ... customers it could not send to (no address)
    waits: str = ""  # a wait: "would wait until …"
    message: str = ""  # a send: the first message, as it would be sent


class DryRunResult(BaseModel):
    activity_id: int
    version_number: int
    sample: str  # where the customers came from, in words
    entered: int  # customers the trigger let in
    nodes: dict[str, DryRunNode]
    edges: dict[str, int]  # "source|branch|target" (the canvas's edge id) → customers on that line
    dropped: int
    drops: list[DryRunDrop]  # the first MAX_LISTED
    reasons: dict[str, int]  # reason → customers
    notes: list[str]
    ran_at: datetime


class DryRunPorts(RuntimePorts):
    """Real reads, no effects: `send` answers "would send" (success) without a channel, `set_tag` changes the
    in-memory views, `add_to_audience` and `short_links` store nothing; nothing reaches Redis (no store)."""

    def __init__(self, session: Session, workspace_id: int, views: dict[int, CustomerView]) -> None:
        self.session = session
        self.workspace_id = workspace_id
        self.test = False
        self._writes = []
        self.views = views
        self.results: dict[str, dict[int, str]] = defaultdict(dict)
        self.messages: list[Message] = []

    def previous_results(self, record_id: int, node_id: str, customer_ids: list[int]) -> dict[int, str]:
        found = self.results.get(node_id, {})
        return {cid: found[cid] for cid in customer_ids if cid in found}

    def ab_winner(self, record_id: int, node_id: str) -> str | None:
        return None  # a dry run has no round, so no pick

    def set_tag(self, customer_ids: list[int], tag: str, value: str) -> None:
        for cid in customer_ids:
            if cid in self.views:
                self.views[cid].tags[tag] = value

    def add_to_audience(self, *, record_id: int, node_id: str, name: str, customer_ids: list[int]) -> int:
        return 0

    def short_links(self, *, record_id: int, node_id: str, url: str, customer_ids: list[int]) -> dict[int, str]:
        return {cid: url for cid in customer_ids}  # the page itself: no short code is stored

    def send(self, messages: list[Message]) -> list[SendResult]:
        self.messages.extend(messages[:1])
        for m in messages:
            self.results[m.node_id][m.customer_id] = SendStatus.SUCCESS.value
        return [SendResult(customer_id=m.customer_id, status=SendStatus.SUCCESS) for m in messages]


def dry_run(*, session: Session, actor: User, activity_id: int, sample_size: int = DEFAULT_SAMPLE,
            qaid: str | None = None, flow: dict[str, Any] | None = None) -> DryRunResult:
    """Run the activity's current flow (or `flow`, the canvas's unsaved one) without effects. Refused with
    validate_flow's messages when the flow could not be published."""
    activity = get_activity(session=session, actor=actor, activity_id=activity_id)
    version = session.get(ActivityVersion, activity.current_version_id) if activity.current_version_id else None
    flow = flow if flow is not None else (dict(version.flow) if version else {"nodes": [], "edges": []})
    problems = validate_flow(flow, banned_words(session, activity.workspace_id))
    if problems:
        raise Invalid("The flow cannot be dry-run: " + " ".join(p.message for p in problems))
    if not 1 <= sample_size <= MAX_SAMPLE:
        raise Invalid(f"The sample is 1 to {MAX_SAMPLE:,} customers ({sample_size} asked).")
    graph = FlowGraph(flow)
    trigger_id = graph.trigger_id or ""
    trigger = graph.node(trigger_id)
    run = _Run(session, activity, graph)
    if qaid is not None and qaid.strip():
        ids, props, sample = run.named(qaid.strip(), trigger_id, trigger)
    elif trigger["type"] == "target_audience":
        ids, props, sample = run.audience_sample(int(trigger["config"]["audience_id"]), sample_size)
    else:
        ids, props, sample = run.event_sample(BehaviorEventConfig.model_validate(trigger.get("config") or {}),
                                              sample_size)
    run.go(trigger_id, ids, props)
    drops = run.drops
    reasons: dict[str, int] = defaultdict(int)
    for d in drops:
        reasons[d.reason] += 1
    return DryRunResult(
        activity_id=activity_id, version_number=version.number if version else 1, sample=sample,
        entered=run.nodes[trigger_id].branches.get("out", 0) if trigger_id in run.nodes else 0,
        nodes=dict(run.nodes), edges=dict(run.edges), dropped=len(drops), drops=drops[:MAX_LISTED],
        reasons=dict(sorted(reasons.items(), key=lambda kv: -kv[1])), notes=run.notes, ran_at=run.now)


class _Run:
    def __init__(self, session: Session, activity: Activity, graph: FlowGraph) -> None:
        self.session = session
        self.activity = activity
        self.graph = graph
        self.plan = plan_for(graph)
        self.now = clock.now()
        self.nodes: dict[str, DryRunNode] = defaultdict(DryRunNode)
        self.edges: dict[str, int] = defaultdict(int)
        self.drops: list[DryRunDrop] = []
        self.notes: list[str] = []
        self.views: dict[int, CustomerView] = {}
        self.props: dict[int, dict[str, Any]] = {}
        self.sent: set[int] = set()  # customers a message would reach
        self.listed: set[int] = set()  # customers already listed as dropped
        self.last: dict[int, tuple[str, str]] = {}  # customer → (node, reason) of the last turn away
        self.ports = DryRunPorts(session, activity.workspace_id, self.views)

    # -- who enters
    def named(self, qaid: str, trigger_id: str, trigger: dict[str, Any]) -> tuple[list[int], dict[int, Any], str]:
        customer = self.session.exec(select(Customer).where(Customer.workspace_id == self.activity.workspace_id,
                                                            Customer.qaid == qaid)).first()
        if customer is None or customer.id is None:
            raise NotFound(f"No customer with QAID “{qaid}” in this workspace.")
        cid = customer.id
        sample = f"customer {qaid}"
        if trigger["type"] == "target_audience":
            audience_id = int(trigger["config"]["audience_id"])
            try:
                inside = members_among(session=self.session, audience_id=audience_id, customer_ids=[cid],
                                       workspace_id=self.activity.workspace_id)
            except CrowdDataError as err:
                raise Invalid(f"The trigger's audience cannot be read: {err}") from err
            if cid not in inside:
                audience = self.session.get(Audience, audience_id)
                name = audience.name if audience else str(audience_id)
                why = "its rule leaves them out" if audience and audience.kind == AudienceKind.RULE \
                    else "they are not one of its members"
                self.nodes[trigger_id].reached = 1
                self._drop(customer.id, customer.qaid, customer.name, trigger_id,
                           f"not in the audience “{name}”: {why}")
                return [], {}, sample
        else:
            config = BehaviorEventConfig.model_validate(trigger.get("config") or {})
            self.props = self._latest_props(config, [cid])
            self.notes.append(f"{qaid} enters as if they did “{config.event}” now.")
        return [cid], self.props, sample

    def audience_sample(self, audience_id: int, size: int) -> tuple[list[int], dict[int, Any], str]:
        ws = self.activity.workspace_id
        try:
            total = count_members(session=self.session, audience_id=audience_id, workspace_id=ws)
            ids = sample_members(session=self.session, audience_id=audience_id, limit=size, workspace_id=ws)
        except CrowdDataError as err:
            raise Invalid(f"The trigger's audience cannot be read: {err}") from err
        audience = self.session.get(Audience, audience_id)
        name = audience.name if audience else str(audience_id)
        return ids, {}, f"{len(ids):,} of the {total:,} members of “{name}”"

    def event_sample(self, config: BehaviorEventConfig, size: int) -> tuple[list[int], dict[int, Any], str]:
        since, until = window(config, self.now)
        candidates = [int(i) for i in self.session.exec(
            select(BehaviorEvent.customer_id).where(BehaviorEvent.workspace_id == self.activity.workspace_id,
                                                    BehaviorEvent.name == config.event,
                                                    col(BehaviorEvent.occurred_at) >= since,
                                                    col(BehaviorEvent.occurred_at) <= until)
            .distinct().order_by(col(BehaviorEvent.customer_id)).limit(MAX_EVENT_CANDIDATES))]
        ok = qualifying(config, candidates, self.ports, self.now)  # the trigger's own check: N times, filters
        ids = sorted(ok, key=lambda i: ((i * 2654435761) % 4294967291, i))[:size]
        self.props = self._latest_props(config, ids)
        return ids, self.props, (f"{len(ids):,} of the {len(ok):,} customers who did “{config.event}” "
                                 f"{config.times}× within the last {config.window_hours} h")

    def _latest_props(self, config: BehaviorEventConfig, ids: list[int]) -> dict[int, dict[str, Any]]:
        """Each customer's latest matching trigger event's properties (what they would enter with)."""
        props: dict[int, dict[str, Any]] = {}
        since, until = window(config, self.now)
        for start in range(0, len(ids), 5000):
            rows = self.session.exec(select(BehaviorEvent.customer_id, BehaviorEvent.properties).where(
                col(BehaviorEvent.customer_id).in_(ids[start:start + 5000]), BehaviorEvent.name == config.event,
                col(BehaviorEvent.occurred_at) >= since, col(BehaviorEvent.occurred_at) <= until)
                .order_by(col(BehaviorEvent.occurred_at)))
            for cid, properties in rows:
                found = dict(properties or {})
                if event_matches(config, config.event, found):
                    props[cid] = found
        return props

    # -- the walk
    def go(self, trigger_id: str, ids: list[int], props: dict[int, dict[str, Any]]) -> None:
        if not ids:
            return
        self.views.update(load_view_map(self.session, ids, attributes=True))
        traverse(self.plan, trigger_id, ids, self._execute)
        for cid, (node_id, reason) in list(self.last.items()):
            if cid not in self.sent and cid not in self.listed:
                view = self.views.get(cid)
                self._drop(cid, view.qaid if view else "", view.name if view else "", node_id, reason)

    def _label(self, node_id: str) -> str:
        node = self.graph.node(node_id)
        spec = get_spec(str(node.get("type")))
        return str(node.get("label") or (spec.label if spec else node.get("type")))

    def _drop(self, cid: int, qaid: str, name: str, node_id: str, reason: str) -> None:
        self.drops.append(DryRunDrop(customer_id=cid, qaid=qaid, name=name, node_id=node_id,
                                     component=self._label(node_id), reason=reason))

    def _execute(self, node_id: str, ids: list[int]) -> Outcome:
        component = self.plan.components[node_id]
        config = self.plan.configs[node_id]
        info = self.nodes[node_id]
        info.reached += len(ids)
        label = self._label(node_id)
        customers = [self.views[cid] for cid in ids if cid in self.views]
        batch = Batch(record_id=DRY_RECORD, node_id=node_id, key="dry-run", customers=customers,
                      trigger_props=self.props if self.plan.event_triggered else {})
        before = len(self.ports.messages)
        try:
            outcome = component.execute(batch, config, self.ports)
        except Exception as err:  # noqa: BLE001 — the engine fails the component: its customers stop here
            failure = f"{label} would fail: {type(err).__name__}: {err}"[:200]
            for cid in ids:
                self.last[cid] = (node_id, failure)
            return Outcome()
        if len(self.ports.messages) > before and not info.message:
            first = self.ports.messages[before]
            info.message = (f"{first.subject} — " if first.subject else "") + first.body
        routes = dict(outcome.routes)
        if outcome.parked and component.type == "ab_test":  # outside the test: the winner's branch, once picked
            held = [cid for _, members in outcome.parked for cid in members]
            info.waits = f"{len(held):,} would wait for the automatic winner"
            self.last.update(dict.fromkeys(held, (node_id, f"{label}: would wait for the automatic winner")))
        elif outcome.parked:
            routes["out"] = self._waits(node_id, label, outcome.parked, info)
        if component.sends:
            for cid, (result, why) in outcome.results.items():
                if result == SendStatus.SUCCESS.value:
                    self.sent.add(cid)
                    info.would_send += 1
                else:
                    info.not_sent += 1
                    self.last[cid] = (node_id, f"{label}: not sent — {why or result}")
        several = len(component.branches(config)) > 1
        for branch, members in routes.items():
            info.branches[branch] = info.branches.get(branch, 0) + len(members)
            for target in self.graph.targets(node_id, branch):
                self.edges[f"{node_id}|{branch}|{target}"] += len(members)
            if several and members:
                reason = f"{label}: {self._branch_words(node_id, component.category, config, branch)}"
                for cid in members:
                    self.last[cid] = (node_id, reason)
        if component.type != "end":
            routed = {cid for members in routes.values() for cid in members}
            for cid in ids:
                if cid not in routed and cid not in self.last:
                    self.last[cid] = (node_id, f"{label}: goes no further")
        else:
            for cid in ids:
                self.last.setdefault(cid, (node_id, "reaches the End without a message"))
        return Outcome(routes=routes, results=outcome.results, metrics=outcome.metrics)

    def _waits(self, node_id: str, label: str, parked: list[tuple[datetime, list[int]]], info: DryRunNode) -> list[int]:
        """Pass a wait through: who goes on, and "would wait until …"; those woken after the end are dropped."""
        end = self.activity.end_time
        end = end.replace(tzinfo=UTC) if end is not None and end.tzinfo is None else end
        going: list[int] = []
        wakes: list[datetime] = []
        for wake, members in parked:
            wake = wake if wake.tzinfo else wake.replace(tzinfo=UTC)
            if end is not None and wake > end:
                for cid in members:
                    view = self.views.get(cid)
                    self._drop(cid, view.qaid if view else "", view.name if view else "", node_id,
                               f"{label}: would wait until {_when(wake)}, after the activity ends ({_when(end)})")
                    self.listed.add(cid)
                continue
            wakes.append(wake)
            going.extend(members)
        if wakes:
            first, last = min(wakes), max(wakes)
            info.waits = f"would wait until {_when(first)}" + (f" … {_when(last)}" if last != first else "")
        return going

    def _branch_words(self, node_id: str, category: Category, config: Any, branch: str) -> str:
        if branch == OTHERS:
            return "matched no group (Others)"
        names: dict[str, str] = {}
        for index, group in enumerate(getattr(config, "groups", None) or []):
            names[f"group_{index + 1}"] = getattr(group, "name", "") or ""
        number = branch.removeprefix("group_")
        name = names.get(branch, "")
        kind = "group" if category != Category.JUDGMENT else "matched group"
        return f"{kind} {number}" + (f" “{name}”" if name else "")


def _when(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
