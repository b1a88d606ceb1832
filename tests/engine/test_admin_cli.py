"""python -m engine.admin create-admin as an operator runs it (a subprocess on a migrated temp database)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import Session, select

from engine import db
from engine.models import Role, User, Workspace
from engine.services.auth import verify_password

ROOT = Path(__file__).resolve().parents[2]
GOOD = "correct horse battery"


def _admin(database: str, *args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "engine.admin", "create-admin", *args], input=stdin, env=env,
                          cwd=ROOT, capture_output=True, text=True, timeout=60)


def _users(database: str) -> list[User]:
    db.reset_engine()
    with Session(db.get_engine()) as s:
        return list(s.exec(select(User)).all())


def test_creates_an_admin_with_the_password_from_stdin(database: str) -> None:
    done = _admin(database, "--username", "alice", "--password-stdin", stdin=GOOD + "\n")
    assert done.returncode == 0, done.stderr
    assert "Admin 'alice' created" in done.stdout
    [alice] = _users(database)
    assert alice.role == Role.ADMIN and verify_password(GOOD, alice.password_hash)
    with Session(db.get_engine()) as s:
        assert s.get(Workspace, alice.workspace_id).name == "Default"
    again = _admin(database, "--username", "alice", "--password-stdin", stdin=GOOD + " too\n")
    assert again.returncode == 1 and 'A user named "alice" already exists.' in again.stderr


@pytest.mark.parametrize(("password", "reason"), [
    ("", "Enter a password."),
    ("   ", "Enter a password."),
    ("short1!", "at least 12 characters"),
    ("Password1234!", "too common"),
    ("my-Admin-rocks-42", "must not contain the username"),
    ("aaaaaaaaaaaaaaaa", "5 different characters"),
])
def test_refuses_a_weak_or_empty_password_and_creates_nobody(database: str, password: str, reason: str) -> None:
    done = _admin(database, "--username", "admin", "--password-stdin", stdin=password + "\n")
    assert done.returncode == 1
    assert reason in done.stderr
    assert _users(database) == []


def test_usage_errors_exit_2(database: str) -> None:
    done = _admin(database, stdin="")
    assert done.returncode == 2 and "--username" in done.stderr
