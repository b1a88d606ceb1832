"""The workspace's banned-word list (content moderation): everyone reads it, an admin replaces it.

The words are applied by engine/flow/moderation.py: `activities.publish` and the canvas validate a flow with its
workspace's list, so a touch component whose text holds one cannot be published (the reason is on the
component). Words are kept as typed and matched case-insensitively; duplicates (ignoring case) and blank lines
are dropped."""

from datetime import datetime

from pydantic import BaseModel
from sqlmodel import Session, col, delete, select

from engine.errors import Forbidden, Invalid
from engine.models import Role, User, row_id
from engine.models.moderation import WORD_MAX, BannedWord

MAX_WORDS = 500
ADMIN_ONLY = "Only an admin can change the banned-word list."


class WordList(BaseModel):
    words: list[str]
    can_edit: bool
    why_not: str = ""  # why the actor cannot edit it
    updated_at: datetime | None = None


def banned_words(session: Session, workspace_id: int) -> list[str]:
    """The workspace's words, in the order they were entered (what the validator is given)."""
    return list(session.exec(select(BannedWord.word).where(BannedWord.workspace_id == workspace_id)
                             .order_by(col(BannedWord.id))).all())


def word_list(*, session: Session, actor: User) -> WordList:
    rows = session.exec(select(BannedWord).where(BannedWord.workspace_id == actor.workspace_id)
                        .order_by(col(BannedWord.id))).all()
    admin = actor.role == Role.ADMIN
    return WordList(words=[r.word for r in rows], can_edit=admin, why_not="" if admin else ADMIN_ONLY,
                    updated_at=max((r.created_at for r in rows), default=None))


def clean(words: list[str]) -> list[str]:
    """The list as it will be saved: trimmed, blank lines and case-insensitive duplicates dropped; each word
    1–40 characters, at most 500 words."""
    out: list[str] = []
    seen: set[str] = set()
    for raw in words:
        word = " ".join((raw or "").split())
        if not word or word.casefold() in seen:
            continue
        if len(word) > WORD_MAX:
            raise Invalid(f"A banned word can be at most {WORD_MAX} characters: “{word[:WORD_MAX]}…”.")
        seen.add(word.casefold())
        out.append(word)
    if len(out) > MAX_WORDS:
        raise Invalid(f"The list can hold at most {MAX_WORDS} words ({len(out)} entered).")
    return out


def set_words(*, session: Session, actor: User, words: list[str]) -> list[str]:
    """Replace the workspace's list (admins only); returns it as saved."""
    if actor.role != Role.ADMIN:
        raise Forbidden(ADMIN_ONLY)
    cleaned = clean(words)
    session.exec(delete(BannedWord).where(col(BannedWord.workspace_id) == actor.workspace_id))
    session.flush()
    session.add_all([BannedWord(workspace_id=actor.workspace_id, word=w, created_by=row_id(actor)) for w in cleaned])
    session.flush()
    return cleaned


__all__ = ["ADMIN_ONLY", "MAX_WORDS", "WordList", "banned_words", "clean", "set_words", "word_list"]
