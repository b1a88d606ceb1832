"""The app's routes as the states redirect to them: a module of its own, below every state, so a state that
links to a page never imports that page's state."""

HOME_ROUTE = "/"
LOGIN_ROUTE = "/login"


def canvas_route(activity_id: int | str, **query: str | int) -> str:
    tail = "&".join(f"{k}={v}" for k, v in query.items())
    return f"/activities/{activity_id}/canvas" + (f"?{tail}" if tail else "")
