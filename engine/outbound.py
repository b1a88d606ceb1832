"""The outbound fence: where webhooks and Kafka producers may connect. One source of truth for the rule.

A marketer types a webhook URL or Kafka brokers into a flow; without a fence that is a way into the platform's
own network (a cloud metadata service, Redis, an admin port). So every outbound address is checked AFTER DNS
resolution, at connect time, on every hop of a redirect: loopback, private (RFC 1918, IPv6 unique local),
link-local, CGNAT, multicast, unspecified, reserved and cloud-metadata addresses are refused — unless an admin
allow-lists the host. The HTTP channels connect to the very address that was checked (`FencedBackend`), so a
DNS answer that changes between check and connect (DNS rebinding) cannot swap it.

Allow-list entries (OUTBOUND_ALLOW, comma-separated, plus the admin's table `outboundallow`, edited through
engine/services/outbound_allow.py): a host name (`crm.internal`), an address (`10.0.0.5`, `::1`), either with a
port (`127.0.0.1:8099`, `[::1]:8099`, `crm.internal:8443`), or a network (`10.20.0.0/16`). A listed name is
trusted with whatever it resolves to; a listed address or network lets any name that resolves into it through.

Publish time (`publish_problem`) catches what is visible without DNS — literal addresses and names like
`localhost` or `metadata.google.internal` — so the marketer sees the message on the component; send time
(`Fence.check`) is the guarantee: a refused send is FAILED "address not allowed: …" and never retried.
"""

import ipaddress
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx
from sqlalchemy import make_url
from sqlmodel import select

from engine.db import read_session
from engine.models.outbound import OutboundAllow
from engine.settings import get_settings

log = logging.getLogger(__name__)

IP = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
#: host, port → the addresses a connection may use (the system resolver by default; tests inject a stub)
Resolver = Callable[[str, int], list[str]]

REFUSED = "address not allowed"
#: cloud instance metadata services (AWS, ECS task, GCP, Azure, Alibaba, Oracle), named apart in messages
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254", "169.254.170.2", "fd00:ec2::254", "100.100.100.200", "192.0.0.192"))
#: names that mean "this machine" or "the cloud's metadata service" wherever they are resolved
METADATA_NAMES = frozenset({"metadata.google.internal", "metadata.goog", "metadata", "instance-data",
                            "instance-data.ec2.internal", "metadata.azure.internal"})
_BLOCKED: tuple[tuple[Network, str], ...] = tuple((ipaddress.ip_network(net), kind) for net, kind in (
    ("0.0.0.0/8", "this-host"), ("::/128", "this-host"),
    ("127.0.0.0/8", "loopback"), ("::1/128", "loopback"),
    ("169.254.0.0/16", "link-local"), ("fe80::/10", "link-local"),
    ("100.64.0.0/10", "CGNAT"),
    ("10.0.0.0/8", "private"), ("172.16.0.0/12", "private"), ("192.168.0.0/16", "private"),
    ("fc00::/7", "private"),
    ("224.0.0.0/4", "multicast"), ("ff00::/8", "multicast"),
    ("240.0.0.0/4", "reserved"), ("192.0.0.0/24", "reserved"), ("198.18.0.0/15", "reserved"),
))
STORED_REFRESH_S = 5.0  # how long a process keeps the admin's allow-list before reading it again


class AddressNotAllowed(Exception):
    """Raised before any connection to a refused address; `str()` is the FAILED reason a marketer reads."""

    def __init__(self, host: str, address: str, kind: str, port: int) -> None:
        shown = f"[{host}]" if ":" in host else host
        where = f"{shown}:{port}" + ("" if host == address else f" ({address})")
        super().__init__(f"{REFUSED}: {where}, a {kind} address (an admin can allow-list the host)")
        self.host, self.address, self.kind, self.port = host, address, kind, port


def _embedded_v4(ip: IP) -> ipaddress.IPv4Address | None:
    """The IPv4 address inside an IPv4-mapped, 6to4 or NAT64 IPv6 address (a way around a v4-only list)."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in ipaddress.ip_network("64:ff9b::/96"):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def blocked_kind(ip: IP) -> str | None:
    """Why `ip` is refused ("loopback", "cloud metadata", …), or None for a public address."""
    inner = _embedded_v4(ip)
    if inner is not None:
        return blocked_kind(inner)
    if ip in METADATA_ADDRESSES:
        return "cloud metadata"
    for network, kind in _BLOCKED:
        if ip.version == network.version and ip in network:
            return kind
    return None if ip.is_global else "non-public"


def _ip(text: str) -> IP | None:
    try:
        return ipaddress.ip_address(text.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def _name(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


def name_kind(host: str) -> str | None:
    """Names refused before any lookup: this machine, and the clouds' metadata services."""
    name = _name(host)
    if name == "localhost" or name.endswith(".localhost"):
        return "loopback"
    return "cloud metadata" if name in METADATA_NAMES else None


# -- allow-list entries ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One allow-list entry: a name, or a network (one address = a /32 or /128), with an optional port."""

    name: str | None = None
    network: Network | None = None
    port: int | None = None

    def __str__(self) -> str:
        """The canonical text: what the table stores, so one host is listed once however it was typed."""
        if self.network is None:
            host = str(self.name)
        elif self.network.prefixlen == self.network.max_prefixlen:
            host = str(self.network.network_address)
            if self.port is not None and self.network.version == 6:
                host = f"[{host}]"
        else:
            return str(self.network)
        return host if self.port is None else f"{host}:{self.port}"

    def allows_name(self, host: str, port: int) -> bool:
        return self.name is not None and self.name == _name(host) and self.port in (None, port)

    def allows_ip(self, ip: IP, port: int) -> bool:
        return (self.network is not None and ip.version == self.network.version and ip in self.network
                and self.port in (None, port))


def parse_entry(text: str) -> Entry:
    """`host`, `host:port`, `1.2.3.4[:port]`, `::1`, `[::1]:port` or `10.0.0.0/8`; ValueError with words."""
    raw = text.strip()
    if not raw:
        raise ValueError("an empty allow-list entry")
    if "/" in raw:
        try:
            return Entry(network=ipaddress.ip_network(raw, strict=False))
        except ValueError:
            raise ValueError(f"{raw!r} is not a network (write e.g. 10.20.0.0/16)") from None
    ip = _ip(raw)
    if ip is not None:  # a bare address (IPv6 without brackets has colons but no port)
        return Entry(network=ipaddress.ip_network(ip))
    host, port = raw, None
    if raw.startswith("["):
        host, _, rest = raw[1:].partition("]")
        if not rest.startswith(":"):
            raise ValueError(f"{raw!r}: write [IPv6 address]:port")
        port = _port(raw, rest[1:])
    elif raw.count(":") == 1:
        host, port_text = raw.split(":")
        port = _port(raw, port_text)
    ip = _ip(host)
    if ip is not None:
        return Entry(network=ipaddress.ip_network(ip), port=port)
    name = _name(host)
    labels = name.split(".")
    if not name or len(name) > 253 or not all(label and len(label) <= 63 and
                                              all(c.isalnum() or c in "-_" for c in label) for label in labels):
        raise ValueError(f"{raw!r} is not a host name, address or network")
    return Entry(name=name, port=port)


def _port(raw: str, text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise ValueError(f"{raw!r}: the port must be a number from 1 to 65535")
    return int(text)


@lru_cache(maxsize=64)
def parse_entries(text: str) -> tuple[Entry, ...]:
    """A comma-separated list (OUTBOUND_ALLOW); a bad entry is a configuration error that names itself."""
    return tuple(parse_entry(part) for part in text.split(",") if part.strip())


# -- the admin's stored entries (table outboundallow), cached per process -----------------------------------


class _Stored:
    """The entries of the table, read at most every STORED_REFRESH_S (only when an address would be refused:
    public addresses never cost a read). `invalidate()` after an edit in this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: tuple[Entry, ...] = ()
        self._read_at = -1e18

    def __call__(self) -> tuple[Entry, ...]:
        with self._lock:
            if time.monotonic() - self._read_at < STORED_REFRESH_S:
                return self._entries
            try:
                if not _database_exists():
                    return ()  # nothing stored; and a check must not create an empty SQLite file
                with read_session() as session:
                    rows = session.exec(select(OutboundAllow.entry)).all()
                self._entries = tuple(parse_entry(e) for e in rows)
            except Exception:  # an unreachable database must not open the fence: keep what we had
                log.warning("outbound allow-list: the table could not be read; using the last known entries",
                            exc_info=True)
            self._read_at = time.monotonic()
            return self._entries

    def invalidate(self) -> None:
        with self._lock:
            self._read_at = -1e18


stored = _Stored()


def _database_exists() -> bool:
    url = make_url(get_settings().database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return True
    return Path(url.database).exists()


def system_resolver(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (IPv4 and IPv6), in the resolver's order, without duplicates."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc.strerror}") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


# -- the fence -----------------------------------------------------------------------------------------------


@dataclass
class Fence:
    """The rule applied to one connection. `allow=None` reads OUTBOUND_ALLOW from the settings at each check
    (tests and the admin change it at run time); `stored` gives the admin's table entries (None: none)."""

    allow: str | Sequence[str] | None = None
    stored: Callable[[], Iterable[Entry]] | None = field(default=stored)
    resolver: Resolver = system_resolver

    def _static(self) -> tuple[Entry, ...]:
        if self.allow is None:
            return parse_entries(get_settings().outbound_allow)
        text = self.allow if isinstance(self.allow, str) else ",".join(self.allow)
        return parse_entries(text)

    def _allowed(self, test: Callable[[Entry], bool]) -> bool:
        if any(test(e) for e in self._static()):
            return True
        return self.stored is not None and any(test(e) for e in self.stored())

    def name_allowed(self, host: str, port: int) -> bool:
        return self._allowed(lambda e: e.allows_name(host, port))

    def ip_allowed(self, ip: IP, port: int) -> bool:
        return self._allowed(lambda e: e.allows_ip(ip, port))

    def check(self, host: str, port: int) -> list[str]:
        """The addresses a connection to host:port may use (connect to one of THESE, not to the name again);
        AddressNotAllowed when any address it resolves to is refused (a name that resolves both inside and
        outside is refused: which one a connection takes is not ours to choose)."""
        literal = _ip(host)
        if literal is not None:
            kind = blocked_kind(literal)
            if kind is not None and not self.ip_allowed(literal, port):
                raise AddressNotAllowed(str(literal), str(literal), kind, port)
            return [str(literal)]
        if self.name_allowed(host, port):
            return self.resolver(host, port)
        kind = name_kind(host)
        if kind is not None:
            raise AddressNotAllowed(_name(host), _name(host), kind, port)
        addresses = self.resolver(host, port)
        for address in addresses:
            ip = _ip(address)
            kind = "unreadable" if ip is None else blocked_kind(ip)
            if kind is not None and (ip is None or not self.ip_allowed(ip, port)):
                raise AddressNotAllowed(_name(host), address, kind, port)
        return addresses

    def publish_problem(self, host: str, port: int) -> str | None:
        """What publish-time validation can say without DNS: a literal refused address or a refused name."""
        literal = _ip(host)
        kind = blocked_kind(literal) if literal is not None else name_kind(host)
        if kind is None:
            return None
        if (literal is not None and self.ip_allowed(literal, port)) or (literal is None and
                                                                        self.name_allowed(host, port)):
            return None
        return (f"{_name(host)} is not allowed ({kind} address): outbound calls go there only when an admin "
                "allow-lists the host")


def url_problem(url: str, fence: Fence | None = None) -> str | None:
    """Publish-time check of a webhook URL (None when fine or when only DNS can tell)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None  # the component's own URL check reports it
    return (fence or Fence()).publish_problem(parts.hostname or "", port) if parts.hostname else None


def split_server(server: str) -> tuple[str, int]:
    """`host:port` or `[v6]:port` of a Kafka bootstrap server → (host, port)."""
    host, _, port = server.strip().rpartition(":")
    return host.strip("[]"), int(port)


def servers_problem(servers: Iterable[str], fence: Fence | None = None) -> str | None:
    """Publish-time check of Kafka bootstrap servers."""
    fence = fence or Fence()
    for server in servers:
        try:
            problem = fence.publish_problem(*split_server(server))
        except ValueError:
            continue  # the component's own format check reports it
        if problem:
            return problem
    return None


# -- HTTP: connect only to checked addresses -----------------------------------------------------------------


class FencedBackend(httpcore.SyncBackend):
    """httpcore's socket backend, fenced: each new connection (first request, every redirect hop, every
    reconnect) is checked, and the socket is opened to the checked address itself — the name is not resolved a
    second time, so DNS rebinding cannot swap it. TLS still verifies the certificate against the host name."""

    def __init__(self, fence: Fence) -> None:
        self.fence = fence

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        error: Exception | None = None
        for address in self.fence.check(host, port):  # raises AddressNotAllowed before any connection
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                error = exc
        raise error or httpcore.ConnectError(f"{host} has no address")


class FencedTransport(httpx.HTTPTransport):
    """httpx's transport on a fenced connection pool. Never with an environment proxy: through a proxy the
    fence would only see the proxy's address."""

    def __init__(self, fence: Fence, *, limits: httpx.Limits = httpx.Limits()) -> None:
        super().__init__(limits=limits, trust_env=False)
        self._pool = httpcore.ConnectionPool(  # the one line that reaches into httpx: its pool, rebuilt fenced
            ssl_context=httpx.create_ssl_context(), max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections, keepalive_expiry=limits.keepalive_expiry,
            network_backend=FencedBackend(fence))
