"""Serving the REST API with gunicorn: one worker process that holds the herder.

The arbiter (the process ``connect-standalone`` starts) binds the listeners and forks one
worker. The worker builds the Falcon app, then starts the herder in ``post_worker_init`` on a
thread of its own so the API can answer ``/health`` with "starting" meanwhile, and serves
requests on ``gthread`` threads. On SIGTERM or SIGINT the herder is stopped inside the worker
(``worker_int``/``worker_exit``), so tasks stop and offsets are committed before it exits.
A failed start (Kafka unreachable, a bad connector file) ends the whole server with Kafka's
exit code.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter
from kconnect.api.errors import ConfigException, ConnectException
from kconnect.rest.http import HerderRef

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_BAD_CONFIG = 1
EXIT_CONNECTOR_ERROR = 3
#: gunicorn halts the arbiter when a worker exits with this code instead of re-forking it
_WORKER_BOOT_ERROR = Arbiter.WORKER_BOOT_ERROR
_REQUEST_THREADS = 16


def listener_binds(worker_config: Any) -> tuple[list[str], str]:
    """(gunicorn bind addresses, scheme) from ``listeners`` or the old ``rest.host.name`` and
    ``rest.port``. gunicorn serves one TLS setting for all its sockets, so HTTP and HTTPS
    listeners cannot be mixed."""
    originals = worker_config.originals()
    if originals.get("listeners") is None and (
        originals.get("rest.port") or originals.get("rest.host.name")
    ):
        host, port = worker_config.rest_host_port()
        return [f"{host or '0.0.0.0'}:{port}"], "http"
    binds, schemes = [], set()
    for listener in worker_config.get("listeners") or ["http://:8083"]:
        scheme, sep, rest = listener.strip().partition("://")
        if not sep or scheme.lower() not in ("http", "https"):
            raise ConfigException(
                f"Invalid listener {listener!r}: expected http://host:port or https://host:port",
                name="listeners",
            )
        host, _, port = rest.rpartition(":")
        if not port.isdigit():
            raise ConfigException(f"Invalid listener {listener!r}: no port", name="listeners")
        host = host or "0.0.0.0"
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        binds.append(f"{host}:{port}")
        schemes.add(scheme.lower())
    if len(schemes) > 1:
        raise ConfigException(
            "kconnect cannot serve http and https listeners at the same time; use one scheme",
            name="listeners",
        )
    return binds, schemes.pop()


def ssl_options(worker_config: Any) -> dict[str, Any]:
    """gunicorn TLS settings from ``listeners.https.ssl.*`` (falling back to ``ssl.*``, as Kafka).
    Keystores must be PEM (``ssl.keystore.type=PEM`` or a ``.pem`` file holding key and chain)
    or PKCS12, which is converted to PEM."""
    props = worker_config.originals()

    def get(key: str) -> Any:
        value = props.get(f"listeners.https.ssl.{key}")
        return value if value is not None else props.get(f"ssl.{key}")

    location = get("keystore.location")
    if not location:
        raise ConfigException(
            "An https listener needs listeners.https.ssl.keystore.location",
            name="listeners.https.ssl.keystore.location",
        )
    store_type = str(
        get("keystore.type") or ("PEM" if str(location).endswith(".pem") else "PKCS12")
    ).upper()
    if store_type == "PKCS12":
        certfile = _pkcs12_to_pem(str(location), get("keystore.password"), get("key.password"))
        keyfile = certfile
    elif store_type == "PEM":
        certfile = keyfile = str(location)
    else:
        raise ConfigException(
            f"Unsupported keystore type {store_type}: use PEM or PKCS12",
            name="listeners.https.ssl.keystore.type",
        )
    options: dict[str, Any] = {"certfile": certfile, "keyfile": keyfile}
    truststore = get("truststore.location")
    if truststore:
        options["ca_certs"] = str(truststore)
    client_auth = str(get("client.auth") or "none").lower()
    import ssl

    options["cert_reqs"] = {"required": ssl.CERT_REQUIRED, "requested": ssl.CERT_OPTIONAL}.get(
        client_auth, ssl.CERT_NONE
    )
    return options


def _pkcs12_to_pem(location: str, password: Any, key_password: Any) -> str:
    import tempfile

    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
        pkcs12,
    )

    with open(location, "rb") as f:
        data = f.read()
    secret = str(password).encode() if password else None
    key, cert, extra = pkcs12.load_key_and_certificates(data, secret)
    if key is None or cert is None:
        raise ConfigException(f"Keystore {location} holds no private key and certificate")
    fd, path = tempfile.mkstemp(prefix="kconnect-tls-", suffix=".pem")
    with os.fdopen(fd, "wb") as out:
        out.write(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
        out.write(cert.public_bytes(Encoding.PEM))
        for more in extra or []:
            out.write(more.public_bytes(Encoding.PEM))
    return path


class RestServerApplication(BaseApplication):
    """gunicorn application: settings from the worker config, the herder in the worker."""

    def __init__(self, worker_config: Any, herder_factory: Callable[[], Any], exit_code: Any):
        self.worker_config = worker_config
        self.herder_factory = herder_factory
        self.exit_code = exit_code
        self.herder_ref = HerderRef()
        self._stop_lock = threading.Lock()
        self._stopped = False
        super().__init__()

    def load_config(self) -> None:
        binds, scheme = listener_binds(self.worker_config)
        graceful_s = float(self.worker_config.get("task.shutdown.graceful.timeout.ms")) / 1000
        settings: dict[str, Any] = {
            "bind": binds,
            "workers": 1,
            "worker_class": "gthread",
            "threads": _REQUEST_THREADS,
            # The herder lives in this one worker: recycling it would restart every connector.
            "max_requests": 0,
            # gthread heartbeats from its main loop, so slow requests never trip this.
            "timeout": 120,
            # Stopping tasks, flushing producers and committing offsets must fit in here.
            "graceful_timeout": int(max(30.0, graceful_s * 2 + 20)),
            "keepalive": 30,
            "accesslog": None,
            "errorlog": "-",
            "loglevel": logging.getLevelName(logging.getLogger().getEffectiveLevel()).lower(),
            "proc_name": "kconnect",
            # gunicorn's control socket lives at one fixed path per user: two workers on one
            # machine (tests, a standalone next to another) would fight over it.
            "control_socket_disable": True,
            "post_worker_init": self._post_worker_init,
            "worker_int": self._worker_int,
            "worker_abort": self._worker_int,
            "worker_exit": self._worker_exit,
        }
        if scheme == "https":
            settings.update(ssl_options(self.worker_config))
        for key, value in settings.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from kconnect.rest.app import create_app

        return create_app(self.herder_ref, self.worker_config)

    # -- hooks (all run in the worker process) -------------------------------------------------
    def _post_worker_init(self, worker: Any) -> None:
        threading.Thread(
            target=self._start_herder, args=(worker,), name="herder-startup", daemon=True
        ).start()

    def _start_herder(self, worker: Any) -> None:
        from kconnect.cli.standalone import ConnectorStartError

        try:
            herder = self.herder_factory()
        except ConnectorStartError as error:
            log.error("Stopping after connector error: %s", error)
            self._fail_boot(worker, EXIT_CONNECTOR_ERROR)
            return
        except Exception as error:  # noqa: BLE001 - any startup failure ends the worker
            level = logging.ERROR
            log.log(level, "%s", error, exc_info=not isinstance(error, ConnectException))
            self._fail_boot(worker, EXIT_BAD_CONFIG)
            return
        self.herder_ref.set(herder)
        log.info(
            "Kafka Connect started (pid %d); REST API on %s", os.getpid(), ", ".join(self.cfg.bind)
        )

    def _fail_boot(self, worker: Any, code: int) -> None:
        self.exit_code.value = code
        self.herder_ref.startup_error = RuntimeError("startup failed")
        worker.alive = (
            False  # the gthread loop ends; worker_exit then leaves with the boot error code
        )

    def _stop_herder(self) -> None:
        with self._stop_lock:
            if self._stopped:
                return
            self._stopped = True
        herder = self.herder_ref.peek()
        if herder is not None:
            log.info("Stopping the herder")
            try:
                herder.stop()
            except Exception:  # noqa: BLE001 - shutting down anyway
                log.exception("Error stopping the herder")

    def _worker_int(self, worker: Any) -> None:
        self._stop_herder()

    def _worker_exit(self, server: Any, worker: Any) -> None:
        self._stop_herder()
        if self.herder_ref.startup_error is not None:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(_WORKER_BOOT_ERROR)


class _GracefulArbiter(Arbiter):
    """Ctrl-C stops as gracefully as SIGTERM: tasks get their shutdown time, offsets are kept."""

    def handle_int(self) -> None:
        self.handle_term()


def serve(worker_config: Any, herder_factory: Callable[[], Any]) -> int:
    """Run the REST server and the herder until SIGTERM/SIGINT; returns the exit code."""
    exit_code = multiprocessing.Value("i", EXIT_OK)
    try:
        application = RestServerApplication(worker_config, herder_factory, exit_code)
    except ConfigException as error:
        print(f"ERROR {error}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    try:
        _GracefulArbiter(application).run()
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
        if code == 0:
            return EXIT_OK
        return exit_code.value or EXIT_BAD_CONFIG
    return exit_code.value
