"""The app's routes as the states redirect to them: a module of its own, below every state, so a state that
links to a page never imports that page's state."""

HOME_ROUTE = "/"
LOGIN_ROUTE = "/login"


def segment(path: str, index: int) -> str:
    """The `index`-th segment of a URL path ('/reach/sms' -> 1: 'sms'): a dynamic route's argument, read from
    the URL itself (Reflex deprecated `router.page.params`)."""
    parts = [p for p in path.split("?", 1)[0].split("/") if p]
    return parts[index] if index < len(parts) else ""


def canvas_route(activity_id: int | str, **query: str | int) -> str:
    tail = "&".join(f"{k}={v}" for k, v in query.items())
    return f"/activities/{activity_id}/canvas" + (f"?{tail}" if tail else "")


def customer_route(customer_id: int | str) -> str:
    return f"/customers/{customer_id}"
