"""Sign-in: throttled per username and per address on a test clock, and no user enumeration by timing."""

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from engine import clock
from engine.errors import Invalid
from engine.models import Role, User
from engine.services import auth, login_throttle
from tests import factories as f

T0 = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)


class ManualClock:
    def __init__(self) -> None:
        self.now = T0

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def test_clock() -> Iterator[ManualClock]:
    c = ManualClock()
    clock.set_clock(lambda: c.now)
    yield c
    clock.set_clock(None)


@pytest.fixture
def ann(session: Session, redis_url: str) -> User:
    return f.user(session, f.workspace(session), Role.MARKETER, name="ann")  # password "pw" (factories)


def _fail(session: Session, username: str, address: str = "10.0.0.1") -> str:
    with pytest.raises(Invalid) as err:
        auth.login(session=session, username=username, password="wrong", address=address)
    return err.value.message


def test_five_failures_lock_the_user_with_minutes_to_wait_until_the_window_passes(
        session: Session, ann: User, test_clock: ManualClock) -> None:
    for _ in range(login_throttle.MAX_USER_FAILURES):
        assert _fail(session, "ann") == auth.WRONG_CREDENTIALS
        test_clock.advance(timedelta(minutes=1))
    # locked: even the right password is refused, from another address too, with the time left
    with pytest.raises(Invalid) as err:
        auth.login(session=session, username="ann", password="pw", address="10.0.0.2")
    assert err.value.message == "Too many failed sign-ins. Try again in 10 minutes."
    test_clock.advance(timedelta(minutes=9, seconds=30))
    assert _fail(session, "Ann ", "10.0.0.3") == "Too many failed sign-ins. Try again in 1 minute."
    test_clock.advance(timedelta(seconds=31))  # the first failure left the window: one more try
    assert auth.user_for_token(session=session, token=auth.login(
        session=session, username="ann", password="pw", address="10.0.0.2")) == ann


def test_a_success_forgives_the_users_failures(session: Session, ann: User, test_clock: ManualClock) -> None:
    for _ in range(login_throttle.MAX_USER_FAILURES - 1):
        _fail(session, "ann")
    auth.login(session=session, username="ann", password="pw", address="10.0.0.1")
    for _ in range(login_throttle.MAX_USER_FAILURES):
        assert _fail(session, "ann") == auth.WRONG_CREDENTIALS
    assert _fail(session, "ann").startswith("Too many failed sign-ins.")


def test_one_address_guessing_many_names_is_locked(session: Session, ann: User, test_clock: ManualClock) -> None:
    for i in range(login_throttle.MAX_ADDRESS_FAILURES):
        assert _fail(session, f"guess{i}", "203.0.113.9") == auth.WRONG_CREDENTIALS
    with pytest.raises(Invalid, match="Try again in 15 minutes"):
        auth.login(session=session, username="ann", password="pw", address="203.0.113.9")
    # another address is not affected
    auth.login(session=session, username="ann", password="pw", address="203.0.113.10")


def test_unknown_names_lock_like_known_ones(session: Session, ann: User, test_clock: ManualClock) -> None:
    for _ in range(login_throttle.MAX_USER_FAILURES):
        assert _fail(session, "nobody") == auth.WRONG_CREDENTIALS
    assert _fail(session, "nobody").startswith("Too many failed sign-ins.")


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every bcrypt verification login runs (the real one is still called): the hashes it checked against."""
    seen: list[str] = []
    real: Callable[[str, str], bool] = auth.verify_password

    def counting(password: str, password_hash: str) -> bool:
        seen.append(password_hash)
        return real(password, password_hash)

    monkeypatch.setattr(auth, "verify_password", counting)
    return seen


def test_unknown_user_costs_one_verification_at_the_real_cost(
        session: Session, ann: User, test_clock: ManualClock, verifications: list[str]) -> None:
    _fail(session, "nobody")
    _fail(session, "ann")
    assert len(verifications) == 2
    dummy, real = verifications
    assert dummy == auth.dummy_hash() != real
    assert dummy.startswith(f"$2b${auth.HASH_ROUNDS:02d}$")  # same cost as a hash create-admin makes
    assert auth.hash_password("x").startswith(f"$2b${auth.HASH_ROUNDS:02d}$")


def test_a_locked_attempt_runs_no_hash(session: Session, ann: User, test_clock: ManualClock,
                                       verifications: list[str]) -> None:
    for _ in range(login_throttle.MAX_USER_FAILURES):
        _fail(session, "ann")
    _fail(session, "ann")
    assert len(verifications) == login_throttle.MAX_USER_FAILURES
