"""Seed 004: who a test round reaches (the runtime's and the services' shared read)."""

from sqlmodel import Session, col, select

from engine.models import ActivityTester


def tester_ids(session: Session, activity_id: int) -> list[int]:
    """The customer ids of the activity's testers, in the order they were added."""
    return [int(i) for i in session.exec(select(ActivityTester.customer_id).where(
        ActivityTester.activity_id == activity_id).order_by(col(ActivityTester.id))).all()]
