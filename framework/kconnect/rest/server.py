"""Serving the REST API with gunicorn: one worker process that holds the herder.

The arbiter (the process ``connect-standalone`` starts) binds the listeners and forks one
worker. The worker builds the Falcon app, then starts the herder in ``post_worker_init`` on a
thread of its own so the API can answer ``/health`` with "starting" meanwhile, and serves
requests on threads once they have arrived whole (:mod:`kconnect.rest.request_buffering`,
gunicorn's ``gthread`` reading on its event loop). On SIGTERM or SIGINT the herder is stopped inside the worker
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
from kconnect.rest import server_tls
from kconnect.rest.extensions import load_rest_extensions
from kconnect.rest.http import HerderRef
from kconnect.rest.listeners import rest_listeners
from kconnect.rest.request_buffering import BufferingThreadWorker, RequestLimits
from kconnect.rest.rest_keys import warn_unknown_rest_keys

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_BAD_CONFIG = 1
EXIT_CONNECTOR_ERROR = 3
#: gunicorn halts the arbiter when a worker exits with this code instead of re-forking it
_WORKER_BOOT_ERROR = Arbiter.WORKER_BOOT_ERROR
_REQUEST_THREADS = 16


def listener_binds(worker_config: Any) -> tuple[list[str], str]:
    """(gunicorn bind addresses, scheme) of ``listeners`` and ``admin.listeners`` (or the old
    ``rest.host.name``/``rest.port``); see :mod:`kconnect.rest.listeners`."""
    listeners = rest_listeners(worker_config)
    return listeners.binds, listeners.scheme


def ssl_options(worker_config: Any) -> dict[str, Any]:
    """gunicorn TLS settings for https listeners; see :mod:`kconnect.rest.server_tls`."""
    admin_separate = rest_listeners(worker_config).admin_separate
    return server_tls.ssl_options(worker_config.originals(), admin_separate)


class RestServerApplication(BaseApplication):
    """gunicorn application: settings from the worker config, the herder in the worker."""

    def __init__(self, worker_config: Any, herder_factory: Callable[[], Any], exit_code: Any):
        self.worker_config = worker_config
        self.herder_factory = herder_factory
        self.exit_code = exit_code
        self.herder_ref = HerderRef()
        self._stop_lock = threading.Lock()
        self._stopped = False
        # Checked here, before gunicorn binds anything: a listener, TLS or REST extension
        # setting that cannot be honoured stops the worker with its message (serve() prints it).
        props = worker_config.originals()
        warn_unknown_rest_keys(props, worker_config.definition.names())
        self.listeners = rest_listeners(worker_config)
        self.tls_options = (
            server_tls.ssl_options(props, self.listeners.admin_separate)
            if self.listeners.scheme == "https"
            else {}
        )
        self.rest_extensions = load_rest_extensions(props)
        super().__init__()

    def load_config(self) -> None:
        binds = self.listeners.binds
        #: read by BufferingThreadWorker in the worker process
        self.request_limits = RequestLimits.from_worker_config(self.worker_config)
        graceful_s = float(self.worker_config.get("task.shutdown.graceful.timeout.ms")) / 1000
        settings: dict[str, Any] = {
            "bind": binds,
            "workers": 1,
            # gthread that reads each request whole on its event loop before a thread serves
            # it, bounded in time and size (rest.request.read.timeout.ms, .max.bytes).
            "worker_class": BufferingThreadWorker,
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
        settings.update(self.tls_options)
        for key, value in settings.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from kconnect.rest.app import create_app

        return create_app(
            self.herder_ref,
            self.worker_config,
            listeners=self.listeners,
            extensions=self.rest_extensions,
        )

    # -- hooks (all run in the worker process) -------------------------------------------------
    def _post_worker_init(self, worker: Any) -> None:
        # Listeners on port 0 are known by the port they got (sockets are in bind order).
        self.listeners.sockets_bound([sock.getsockname() for sock in worker.sockets])
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
