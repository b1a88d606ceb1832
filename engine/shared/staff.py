"""Issue 14: staff contacts as testers. A staff tester is reached through the same channel code as a customer
tester: each such user has one hidden customer row (`Customer.staff_user_id`, QAID STAFF_QAID_PREFIX + user id)
holding a copy of their contact, which a test round enters like any tester. `shared.customers.not_staff` keeps
these rows out of audiences, estimates, the customer list and search; the prefix keeps imports and the APIs from
reaching them."""

from sqlmodel import Session, select

from engine.models import ActivityTester, Customer, User, row_id
from engine.shared.customers import STAFF_QAID_PREFIX


def staff_customer(session: Session, user: User) -> Customer:
    """The user's hidden customer row, created on first use, its contact copied from the user now (a
    deactivated user's is cleared: no test reaches them)."""
    customer = session.exec(select(Customer).where(Customer.staff_user_id == user.id)).first()
    if customer is None:
        customer = Customer(workspace_id=user.workspace_id, qaid=f"{STAFF_QAID_PREFIX}{row_id(user)}",
                            staff_user_id=row_id(user))
    customer.name = user.display_name
    customer.phone = user.phone if user.active else None
    customer.email = user.email if user.active else None
    session.add(customer)
    session.flush()
    return customer


def sync_staff_testers(session: Session, activity_id: int) -> None:
    """Copy each staff tester's current contact into their row (before a test round enters them)."""
    rows = session.exec(select(User).join(Customer, Customer.staff_user_id == User.id).join(  # type: ignore[arg-type]
        ActivityTester, ActivityTester.customer_id == Customer.id).where(  # type: ignore[arg-type]
        ActivityTester.activity_id == activity_id)).all()
    for user in rows:
        staff_customer(session, user)


def sync_user(session: Session, user: User) -> None:
    """After the user's contact or active flag changed: their row, if they have one, follows."""
    if session.exec(select(Customer.id).where(Customer.staff_user_id == user.id)).first() is not None:
        staff_customer(session, user)
