"""The demo data shows every case on screen and can be loaded twice."""

from sqlmodel import Session, func, select

from engine import demo
from engine.flow.validate import validate_flow
from engine.models import Activity, ActivityVersion, User
from engine.services import groups, message_templates, processes
from engine.services.auth import login, user_for_token
from engine.services.listing import ListQuery, list_activities, status_counts
from engine.status import ActivityStatus


def test_demo_covers_every_status_and_is_idempotent(session: Session) -> None:
    assert demo.seed(session) is True
    assert demo.seed(session) is False
    assert session.exec(select(func.count()).select_from(Activity)).one() == len(demo.ACTIVITIES) >= 40
    admin = session.exec(select(User).where(User.username == "admin")).one()
    counts = status_counts(session=session, actor=admin)
    assert all(counts[s.value] > 0 for s in ActivityStatus)
    tree = groups.list_tree(session=session, actor=admin)
    assert max(n.depth for root in tree for child in root.children for n in child.children) == 3
    session.commit()  # the demo CRM's allow-list entry, read by the outbound fence, is visible once committed
    for version in session.exec(select(ActivityVersion)).all():
        assert validate_flow(version.flow) == []
    # one public process, and the list's audience filter finds the demo's audience flows
    marketer2 = session.exec(select(User).where(User.username == "marketer2")).one()
    assert [p.name for p in processes.list_processes(session=session, actor=marketer2)] == [demo.DEMO_PROCESS]
    assert list_activities(session=session, actor=admin, query=ListQuery(audience_id=1)).total > 0
    # public message templates that pass moderation, one per channel the demo shows
    shown = message_templates.list_templates(session=session, actor=marketer2, sort="name").rows
    assert sorted(r.name for r in shown) == sorted(t[1] for t in demo.DEMO_TEMPLATES)
    assert all(r.moderation.passed for r in shown)


def test_demo_logins_work(session: Session, redis_url: str) -> None:  # sign-in throttles in Redis
    demo.seed(session)
    for username, password, _, role in demo.USERS:
        token = login(session=session, username=username, password=password)
        assert user_for_token(session=session, token=token).role == role


def test_marketer_sees_less_than_admin(session: Session) -> None:
    demo.seed(session)
    admin, marketer = (session.exec(select(User).where(User.username == u)).one() for u in ("admin", "marketer"))
    assert 0 < status_counts(session=session, actor=marketer)["total"] < status_counts(session=session,
                                                                                       actor=admin)["total"]
