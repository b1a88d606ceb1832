"""The outbound fence on real webhook POSTs: refused addresses are never dialled (the interpreter's socket.connect
audit events show every address the process connected to), redirects are checked hop by hop, the address
checked is the address connected to. Names resolve through a stub resolver; only loopback is ever dialled."""

from urllib.parse import quote

from engine.channels import signature
from engine.channels.base import SendStatus
from engine.channels.webhook import WebhookChannel
from engine.outbound import Fence
from tests.engine.channels.helpers import dialled, msg
from tests.engine.conftest import HttpSink

SECRET = "node-secret"


def hook(customer_id: int, url: str, **options):
    options.setdefault("secret", SECRET)
    return msg(customer_id, channel="webhook", to=url, record_id=4, node_id="h1", data={"n": customer_id},
               options=options)


def channel(fence: Fence | None = None) -> WebhookChannel:
    return WebhookChannel(backoff=0.01, max_attempts=3, fence=fence or Fence(stored=None))


def port_of(sink: HttpSink) -> int:
    return int(sink.url.rsplit(":", 1)[1])


def test_a_sink_that_is_not_allow_listed_is_refused_before_dialling():
    sink = HttpSink()  # listening, but nobody allow-listed it
    try:
        with dialled() as dials:
            results = channel().send_batch([hook(1, f"{sink.url}/ok"), hook(2, f"{sink.url}/ok")])
        assert [r.status for r in results] == [SendStatus.FAILED] * 2
        refused = f"address not allowed: 127.0.0.1:{port_of(sink)}, a loopback address"
        assert all(r.reason.startswith(refused) for r in results)
        assert dials == [] and sink.hits == []  # refused, not retried, never connected
    finally:
        sink.close()


def test_metadata_and_private_literals_are_refused_without_a_connection():
    urls = ["http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/", "http://10.1.2.3:8080/x",
            "http://100.64.0.1/", "http://[::ffff:169.254.169.254]/", "http://0.0.0.0:80/", "http://localhost:9/x",
            "http://metadata.google.internal/computeMetadata/v1/"]
    with dialled() as dials:
        results = channel().send_batch([hook(i, url) for i, url in enumerate(urls)])
    assert dials == []
    by_id = {r.customer_id: r.reason for r in results}
    assert all(by_id[i].startswith("address not allowed") for i in range(len(urls))), by_id
    assert "cloud metadata" in by_id[0] and "cloud metadata" in by_id[1] and "private" in by_id[2]
    assert "CGNAT" in by_id[3] and "cloud metadata" in by_id[4] and "cloud metadata" in by_id[7]


def test_a_name_resolving_inside_is_refused_and_one_resolving_both_ways_too():
    answers = {"crm.test": ["192.168.1.20"], "mixed.test": ["93.184.216.34", "127.0.0.1"]}
    fence = Fence(stored=None, resolver=lambda host, port: answers[host])
    with dialled() as dials:
        results = channel(fence).send_batch([hook(1, "http://crm.test/in"), hook(2, "https://mixed.test/in")])
    assert dials == []
    reasons = sorted(r.reason for r in results)
    assert reasons[0] == "address not allowed: crm.test:80 (192.168.1.20), a private address (an admin can " \
                         "allow-list the host)"
    assert reasons[1].startswith("address not allowed: mixed.test:443 (127.0.0.1), a loopback address")


def test_a_redirect_to_the_metadata_service_is_refused_before_dialling_it(http_sink):
    target = quote("http://169.254.169.254/latest/meta-data/iam", safe="")
    with dialled() as dials:
        results = channel().send_batch([hook(1, f"{http_sink.url}/redirect/302/{target}")])
    assert results[0].status == SendStatus.FAILED
    assert results[0].reason.startswith("address not allowed: 169.254.169.254:80, a cloud metadata address")
    assert http_sink.counts == {f"/redirect/302/{target}": 1}  # one POST, not retried
    assert {host for host, _ in dials} == {"127.0.0.1"}


def test_a_redirect_through_a_name_that_resolves_inside_is_refused(http_sink):
    fence = Fence(stored=None, resolver=lambda host, port: {"internal.test": ["10.0.0.7"]}[host])
    target = quote("http://internal.test:6379/", safe="")
    with dialled() as dials:
        results = channel(fence).send_batch([hook(1, f"{http_sink.url}/redirect/307/{target}")])
    assert results[0].reason.startswith("address not allowed: internal.test:6379 (10.0.0.7), a private address")
    assert {host for host, _ in dials} == {"127.0.0.1"}


def test_allowed_redirects_repeat_the_same_signed_post(http_sink):
    for code in (301, 302, 307, 308):
        results = channel().send_batch([hook(code, f"{http_sink.url}/redirect/{code}/{quote('/ok/moved', safe='')}")])
        assert results[0].status == SendStatus.SUCCESS, results[0].reason
    moved = [h for h in http_sink.hits if h.path == "/ok/moved"]
    assert sorted(h.json()["customer_id"] for h in moved) == [301, 302, 307, 308]  # POSTed, with the body
    for hit in moved:
        assert signature.is_valid(hit.body, SECRET, hit.headers["x-signature"])
        assert hit.headers["idempotency-key"] == f"4:h1:{hit.json()['customer_id']}"


def test_a_redirect_to_another_origin_keeps_only_the_platform_headers(http_sink):
    other = HttpSink()
    try:
        fence = Fence(allow=[f"127.0.0.1:{port_of(http_sink)}", f"127.0.0.1:{port_of(other)}"], stored=None)
        there = quote(f"{other.url}/ok/there", safe="")
        result = channel(fence).send_batch([hook(1, f"{http_sink.url}/redirect/308/{there}",
                                                 headers={"Authorization": "Bearer for-the-first-receiver"})])[0]
        assert result.status == SendStatus.SUCCESS
        assert http_sink.hits[0].headers["authorization"] == "Bearer for-the-first-receiver"
        landed = other.hits[0]
        assert "authorization" not in landed.headers
        assert signature.is_valid(landed.body, SECRET, landed.headers["x-signature"])
        assert landed.headers["idempotency-key"] == "4:h1:1"
    finally:
        other.close()


def test_the_checked_address_is_the_one_connected_to_dns_rebinding_cannot_swap_it(http_sink):
    """The stub resolver answers loopback (allow-listed) first and the metadata address afterwards: a client
    that checked, then let the system resolve again, would dial the second answer. The name is not in any real
    DNS either, so the POST arriving proves the connection used the checked address."""
    port = port_of(http_sink)
    answers = iter([["127.0.0.1"]] + [["169.254.169.254"]] * 10)
    asked: list[str] = []

    def rebinding(host: str, p: int) -> list[str]:
        asked.append(host)
        return next(answers)

    fence = Fence(allow=f"127.0.0.1:{port}", stored=None, resolver=rebinding)
    hooks = [hook(i, f"http://crm.rebind.test:{port}/ok/pinned") for i in range(1, 4)]
    web = channel(fence)
    web.concurrency = 1
    with dialled() as dials:
        results = web.send_batch(hooks)
    assert [r.status for r in results] == [SendStatus.SUCCESS] * 3
    assert len(http_sink.hits) == 3
    assert asked == ["crm.rebind.test"]  # one connection, checked once, kept alive for the three POSTs
    assert dials == [("127.0.0.1", port)]
    web.close()
