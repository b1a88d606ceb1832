"""Redirects a webhook follows: 301, 302, 307 and 308 repeat the same POST (same body, same signature) at the new
address, at most MAX_HOPS times. A webhook receiver that moved wants its data at the new place, not a GET there
(httpx's own following turns a 301/302 POST into a bodiless GET that would count as delivered).

Each hop is a new request through the inner transport, so the outbound fence checks it before connecting
(engine/outbound.py). When a hop leaves the origin, only `keep_on_new_origin` headers go along: the node's own
headers (an Authorization for its receiver) are not handed to whoever the receiver redirects to."""

import httpx

FOLLOWED = frozenset({301, 302, 307, 308})
MAX_HOPS = 5


class FollowRedirects(httpx.BaseTransport):
    def __init__(self, inner: httpx.BaseTransport, *, keep_on_new_origin: frozenset[str],
                 max_hops: int = MAX_HOPS) -> None:
        self.inner = inner
        self.keep = keep_on_new_origin
        self.max_hops = max_hops

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        for _ in range(self.max_hops):
            location = response.headers.get("location")
            if response.status_code not in FOLLOWED or not location:
                break
            response.read()
            response.close()
            request = self._next(request, request.url.join(location))
            response = self.inner.handle_request(request)
        return response

    def _next(self, request: httpx.Request, url: httpx.URL) -> httpx.Request:
        same_origin = (url.scheme, url.host, url.port) == (request.url.scheme, request.url.host, request.url.port)
        headers = [(k, v) for k, v in request.headers.multi_items()
                   if k.lower() not in ("host", "content-length") and (same_origin or k.lower() in self.keep)]
        return httpx.Request(request.method, url, headers=headers, content=request.content,
                             extensions=request.extensions)

    def close(self) -> None:
        self.inner.close()
