"""The REST listeners (``listeners``, ``admin.listeners``) and what each one serves.

As in Kafka Connect:

- ``admin.listeners`` unset: ``/admin/*`` is served on the ``listeners`` with everything else;
- ``admin.listeners`` set to URIs: ``/admin/*`` is served only there, and those listeners serve
  nothing else (404), while the ``listeners`` answer 404 for ``/admin/*``;
- ``admin.listeners`` set but empty: ``/admin/*`` is switched off (404 everywhere).

gunicorn binds every listener in one server with one TLS setting, so HTTP and HTTPS cannot be
mixed across ``listeners`` and ``admin.listeners``; that is refused at start with a message,
never served half-right. A request's listener is known from the local address of the socket it
arrived on (gunicorn's ``gunicorn.socket``, or ``SERVER_NAME``/``SERVER_PORT``), never from
the ``Host`` header, which the client chooses.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import falcon
from kconnect.api.errors import ConfigException
from kconnect.rest.errors import ConnectRestError

log = logging.getLogger(__name__)

LISTENERS_CONFIG = "listeners"
ADMIN_LISTENERS_CONFIG = "admin.listeners"
DEFAULT_LISTENER = "http://:8083"
ADMIN_PATH = "/admin"

# Kafka's listener syntax: protocol://host:port, host may be empty or a bracketed IPv6 address.
_LISTENER = re.compile(r"^\s*([A-Za-z][A-Za-z0-9+.-]*)://(\[[^\]]*\]|[^:/\[\]]*):(\d+)\s*/?\s*$")
_WILDCARDS = ("", "0.0.0.0", "::")


@dataclass(frozen=True)
class Listener:
    """One ``scheme://host:port`` the REST server binds."""

    scheme: str
    host: str
    port: int
    admin: bool = False

    @property
    def bind(self) -> str:
        """gunicorn's bind address; an empty host listens on every interface, as in Kafka."""
        host = self.host or "0.0.0.0"
        return f"[{host}]:{self.port}" if ":" in host else f"{host}:{self.port}"


def parse_listener(text: str, key: str, admin: bool = False) -> Listener:
    """``http://host:port`` -> Listener; ConfigException naming ``key`` otherwise."""
    match = _LISTENER.match(text)
    if not match:
        raise ConfigException(
            f"Invalid listener {text.strip()!r} in {key}: the format is protocol://hostname:port "
            "(for example http://0.0.0.0:8083)",
            name=key,
            value=text,
        )
    scheme = match.group(1).lower()
    if scheme not in ("http", "https"):
        raise ConfigException(
            f'Invalid listener {text.strip()!r} in {key}: the protocol must be either "http" '
            'or "https"',
            name=key,
            value=text,
        )
    port = int(match.group(3))
    if port > 65535:
        raise ConfigException(f"Invalid listener {text.strip()!r} in {key}: no such port", name=key)
    return Listener(scheme, match.group(2).strip("[]"), port, admin)


def _entries(value: Any) -> list[str]:
    items = value if isinstance(value, (list, tuple)) else str(value).split(",")
    return [str(item).strip() for item in items if str(item).strip()]


@dataclass
class RestListeners:
    """Every listener of the worker and where ``/admin`` is served."""

    regular: list[Listener]
    #: None: admin on the regular listeners; []: admin switched off; else its own listeners
    admin: list[Listener] | None = None
    #: local addresses the admin listeners were bound to (filled once the sockets exist)
    _admin_addresses: list[tuple[str, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._admin_addresses = [(a.host, a.port) for a in self.admin or ()]

    @property
    def all(self) -> list[Listener]:
        return [*self.regular, *(self.admin or ())]

    @property
    def binds(self) -> list[str]:
        return [listener.bind for listener in self.all]

    @property
    def scheme(self) -> str:
        return self.all[0].scheme

    @property
    def admin_separate(self) -> bool:
        return bool(self.admin)

    @property
    def admin_off(self) -> bool:
        return self.admin is not None and not self.admin

    def sockets_bound(self, addresses: Sequence[Any]) -> None:
        """The local addresses of the bound sockets, in :attr:`binds` order (so a listener
        on port 0 is known by the port it got)."""
        if len(addresses) != len(self.all):
            return
        admin = addresses[len(self.regular) :]
        self._admin_addresses = [(str(a[0]), int(a[1])) for a in admin]

    def is_admin_address(self, host: str, port: int) -> bool:
        for admin_host, admin_port in self._admin_addresses:
            if admin_port == port and (admin_host in _WILDCARDS or _same_host(admin_host, host)):
                return True
        return False


def _same_host(a: str, b: str) -> bool:
    try:
        first, second = ipaddress.ip_address(a), ipaddress.ip_address(b)
    except ValueError:
        return a.lower() == b.lower()
    mapped = getattr(second, "ipv4_mapped", None)
    return first == second or (mapped is not None and first == mapped)


def rest_listeners(worker_config: Any) -> RestListeners:
    """The listeners of ``worker_config``; ConfigException when they cannot be served."""
    originals = worker_config.originals()
    if originals.get(LISTENERS_CONFIG) is None and (
        originals.get("rest.port") or originals.get("rest.host.name")
    ):
        # Kafka's deprecated keys, used only while listeners is left at its default.
        host, port = worker_config.rest_host_port()
        regular = [Listener("http", host, int(port))]
    else:
        raw = worker_config.get(LISTENERS_CONFIG)
        entries = _entries(raw) if raw is not None else [DEFAULT_LISTENER]
        if not entries:
            raise ConfigException(
                "listeners is empty: the REST API needs at least one listener",
                name=LISTENERS_CONFIG,
            )
        regular = [parse_listener(e, LISTENERS_CONFIG) for e in entries]
    admin_raw = originals.get(ADMIN_LISTENERS_CONFIG)
    admin = (
        None
        if admin_raw is None
        else [parse_listener(e, ADMIN_LISTENERS_CONFIG, admin=True) for e in _entries(admin_raw)]
    )
    listeners = RestListeners(regular, admin)
    schemes = {listener.scheme for listener in listeners.all}
    if len(schemes) > 1:
        raise ConfigException(
            "kconnect cannot serve http and https listeners at the same time (one TLS setting "
            f"serves every socket): {LISTENERS_CONFIG}={_show(regular)}"
            + (f", {ADMIN_LISTENERS_CONFIG}={_show(admin)}" if admin else "")
            + "; use one protocol",
            name=ADMIN_LISTENERS_CONFIG if admin else LISTENERS_CONFIG,
        )
    seen: dict[tuple[str, int], Listener] = {}
    for listener in listeners.all:
        key = (listener.host or "0.0.0.0", listener.port)
        if listener.port != 0 and key in seen:
            where = ADMIN_LISTENERS_CONFIG if listener.admin else LISTENERS_CONFIG
            raise ConfigException(
                f"{where} repeats {listener.scheme}://{listener.host}:{listener.port}: each "
                "listener needs its own host and port (admin.listeners must differ from "
                "listeners)",
                name=where,
            )
        seen[key] = listener
    return listeners


def _show(listeners: Sequence[Listener] | None) -> str:
    return ",".join(f"{x.scheme}://{x.host}:{x.port}" for x in listeners or ())


def local_address(env: dict[str, Any]) -> tuple[str, int] | None:
    """The local (host, port) the request arrived on."""
    sock = env.get("gunicorn.socket")
    if sock is not None:
        try:
            name = sock.getsockname()
            return str(name[0]), int(name[1])
        except (OSError, TypeError, ValueError, IndexError):
            pass
    try:
        return str(env.get("SERVER_NAME", "")), int(env.get("SERVER_PORT", ""))
    except ValueError:
        return None


def is_admin_path(path: str) -> bool:
    return path == ADMIN_PATH or path.startswith(ADMIN_PATH + "/")


class AdminListenerMiddleware:
    """404 for ``/admin`` where it is not served, and for everything else on admin listeners.
    Runs before authentication, as Kafka picks the servlet context before its filters run."""

    def __init__(self, listeners: RestListeners):
        self.listeners = listeners

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        admin_path = is_admin_path(req.path)
        if self.listeners.admin_off:
            if admin_path:
                raise ConnectRestError(404, "HTTP 404 Not Found")
            return
        address = local_address(req.env)
        on_admin = address is not None and self.listeners.is_admin_address(*address)
        if admin_path != on_admin:
            raise ConnectRestError(404, "HTTP 404 Not Found")
