"""The list query: counts, filters, sorting, paging — and visibility per role × owner × public flag in every
read path (list, counts, search, versions, records, groups)."""

import itertools

import pytest
from sqlmodel import Session

from engine.errors import Invalid, NotFound
from engine.models import Role
from engine.services import groups, records, versions
from engine.services.activities import get_activity
from engine.services.listing import ListQuery, list_activities, status_counts
from engine.status import ActivityStatus
from tests import factories as f

S = ActivityStatus


@pytest.fixture
def world(session: Session):
    """A workspace with an admin, a manager, two marketers; each marketer owns one public and one private
    activity in a group; plus an activity in another workspace."""
    ws = f.workspace(session)
    people = {
        "admin": f.user(session, ws, Role.ADMIN),
        "manager": f.user(session, ws, Role.MANAGER),
        "alice": f.user(session, ws, Role.MARKETER),
        "bob": f.user(session, ws, Role.MARKETER),
    }
    g = f.group(session, ws, "Promotions")
    acts = {}
    for owner, public in itertools.product(("alice", "bob"), (True, False)):
        name = f"{owner}-{'public' if public else 'private'} secret"
        acts[name] = f.activity(session, people[owner], name=name, public=public, group=g, status=S.IN_PROGRESS)
    other_ws = f.workspace(session)
    f.activity(session, f.user(session, other_ws, Role.ADMIN), name="elsewhere secret", public=True)
    return people, acts, g


EXPECTED_VISIBLE = {
    "admin": {"alice-public secret", "alice-private secret", "bob-public secret", "bob-private secret"},
    "manager": {"alice-public secret", "bob-public secret"},
    "alice": {"alice-public secret", "alice-private secret", "bob-public secret"},
    "bob": {"alice-public secret", "bob-public secret", "bob-private secret"},
}


@pytest.mark.parametrize("who", list(EXPECTED_VISIBLE))
def test_visibility_in_list_counts_search_and_group_tree(session: Session, world, who: str) -> None:
    people, acts, g = world
    actor = people[who]
    expected = EXPECTED_VISIBLE[who]
    page = list_activities(session=session, actor=actor, query=ListQuery(search="secret", page_size=50))
    assert {r.name for r in page.rows} == expected and page.total == len(expected)
    assert status_counts(session=session, actor=actor)["total"] == len(expected)
    assert status_counts(session=session, actor=actor, group_id=g.id)["in_progress"] == len(expected)
    tree = groups.list_tree(session=session, actor=actor)
    assert tree[0].activity_count == len(expected)
    for name, activity in acts.items():
        visible = name in expected
        for read in (
            lambda a: get_activity(session=session, actor=actor, activity_id=a.id),
            lambda a: versions.list_versions(session=session, actor=actor, activity_id=a.id),
            lambda a: records.list_records(session=session, actor=actor, activity_id=a.id),
        ):
            if visible:
                read(activity)
            else:
                with pytest.raises(NotFound):
                    read(activity)


def test_counts_per_status_and_status_filter(session: Session) -> None:
    ws = f.workspace(session)
    admin = f.user(session, ws, Role.ADMIN)
    plan = {S.DRAFT: 3, S.NOT_STARTED: 1, S.IN_PROGRESS: 4, S.STOPPED: 2, S.COMPLETED: 5, S.ABNORMAL_END: 2}
    for status, n in plan.items():
        for _ in range(n):
            f.activity(session, admin, status=status)
    counts = status_counts(session=session, actor=admin)
    assert counts["total"] == 17 and counts["finished"] == 7
    assert {s.value: counts[s.value] for s in plan} == {s.value: n for s, n in plan.items()}
    finished = list_activities(session=session, actor=admin, query=ListQuery(status="finished", page_size=50))
    assert finished.total == 7 and {r.status for r in finished.rows} == {"completed", "abnormal_end"}
    drafts = list_activities(session=session, actor=admin, query=ListQuery(status="draft"))
    assert {r.status_label for r in drafts.rows} == {"Draft"}
    with pytest.raises(Invalid):
        list_activities(session=session, actor=admin, query=ListQuery(status="bogus"))


def test_search_applies_inside_the_chosen_status(session: Session) -> None:
    ws = f.workspace(session)
    admin = f.user(session, ws, Role.ADMIN)
    f.activity(session, admin, name="Summer sale", status=S.DRAFT)
    f.activity(session, admin, name="Summer sale 2", status=S.IN_PROGRESS)
    f.activity(session, admin, name="Winter sale", status=S.IN_PROGRESS)
    page = list_activities(session=session, actor=admin, query=ListQuery(status="in_progress", search="summer"))
    assert [r.name for r in page.rows] == ["Summer sale 2"]
    percent = list_activities(session=session, actor=admin, query=ListQuery(search="%"))
    assert percent.total == 0  # LIKE wildcards are escaped


def test_group_filter_shows_the_subtree_and_ungrouped(session: Session) -> None:
    ws = f.workspace(session)
    admin = f.user(session, ws, Role.ADMIN)
    top = f.group(session, ws, "Top")
    child = f.group(session, ws, "Child", top)
    leaf = f.group(session, ws, "Leaf", child)
    f.activity(session, admin, name="in top", group=top)
    f.activity(session, admin, name="in leaf", group=leaf)
    f.activity(session, admin, name="loose")
    names = lambda **kw: sorted(r.name for r in list_activities(session=session, actor=admin,  # noqa: E731
                                                                   query=ListQuery(**kw)).rows)
    assert names(group_id=top.id) == ["in leaf", "in top"]
    assert names(group_id=child.id) == ["in leaf"]
    assert names(ungrouped=True) == ["loose"]
    assert status_counts(session=session, actor=admin, group_id=child.id)["total"] == 1


def test_campaign_filter_primary_selects_its_subs(session: Session) -> None:
    ws = f.workspace(session)
    admin = f.user(session, ws, Role.ADMIN)
    primary = f.campaign(session, ws, "618")
    sub_a, sub_b = f.campaign(session, ws, "618 SMS", primary), f.campaign(session, ws, "618 Email", primary)
    other = f.campaign(session, ws, "Other", f.campaign(session, ws, "Other primary"))
    from engine.models import ActivityCampaignLink
    for name, cid in (("A", sub_a.id), ("B", sub_b.id), ("C", other.id)):
        a = f.activity(session, admin, name=name)
        session.add(ActivityCampaignLink(activity_id=a.id, campaign_id=cid))
    session.flush()
    rows = list_activities(session=session, actor=admin, query=ListQuery(campaign_ids=[primary.id], sort="name",
                                                                         descending=False)).rows
    assert [r.name for r in rows] == ["A", "B"] and rows[0].campaigns == ["618 SMS"]
    only_b = list_activities(session=session, actor=admin, query=ListQuery(campaign_ids=[sub_b.id])).rows
    assert [r.name for r in only_b] == ["B"]


def test_sorting_and_paging(session: Session) -> None:
    ws = f.workspace(session)
    admin = f.user(session, ws, Role.ADMIN)
    for i in range(25):
        f.activity(session, admin, name=f"A{i:02d}")
    q = ListQuery(sort="name", descending=False, page_size=10)
    pages = [list_activities(session=session, actor=admin, query=q.model_copy(update={"page": p})) for p in (1, 2, 3)]
    assert [len(p.rows) for p in pages] == [10, 10, 5] and pages[0].pages == 3
    assert [r.name for p in pages for r in p.rows] == [f"A{i:02d}" for i in range(25)]
    beyond = list_activities(session=session, actor=admin, query=q.model_copy(update={"page": 99}))
    assert beyond.page == 3  # clamped to the last page
    with pytest.raises(Invalid):
        list_activities(session=session, actor=admin, query=ListQuery(sort="password_hash"))
