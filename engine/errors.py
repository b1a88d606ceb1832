"""Errors a service raises instead of changing anything; `str(err)` is the message the UI shows as is."""


class ServiceError(Exception):
    """Base: a refused request. The transaction is rolled back; nothing is half-saved."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(ServiceError):
    """Missing, or not visible to the acting user (the two are indistinguishable on purpose)."""


class Forbidden(ServiceError):
    """The acting user's role or ownership does not allow this."""


class Invalid(ServiceError):
    """Bad input: a form limit, an invalid flow, times out of order."""


class Conflict(ServiceError):
    """A rule of the current state refuses it: the status machine, the in-progress cap, a non-empty group."""
