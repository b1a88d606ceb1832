"""The `{unsubscribe_link}` of an email (issue 15): a link that opts its customer out of email when followed.

The code is a Fernet token (engine/secrets.py's key: encrypted and authenticated) of the customer and the round,
so it cannot be guessed or altered, needs no table and no login; `GET /u/{code}` of the API reads it back
(engine/api/consent.py). Anyone holding the email can follow it: that is the point of an unsubscribe link."""

from cryptography.fernet import InvalidToken

from engine import secrets
from engine.settings import get_settings

UNSUBSCRIBE_LINK = "unsubscribe_link"
_PREFIX = "unsub1"


def unsubscribe_code(customer_id: int, record_id: int) -> str:
    return secrets.encrypt(f"{_PREFIX}:{customer_id}:{record_id}").decode()


def unsubscribe_link(customer_id: int, record_id: int) -> str:
    return f"{get_settings().api_public_url.rstrip('/')}/u/{unsubscribe_code(customer_id, record_id)}"


def read_code(code: str) -> tuple[int, int] | None:
    """(customer id, record id) of a code made here; None for anything else (altered, another key, garbage)."""
    try:
        text = secrets.decrypt(code.encode())
    except (InvalidToken, ValueError, TypeError):
        return None
    prefix, _, rest = text.partition(":")
    customer, _, record = rest.partition(":")
    if prefix != _PREFIX or not customer.isdigit() or not record.isdigit():
        return None
    return int(customer), int(record)
