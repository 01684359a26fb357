"""Standalone mode: one worker process, connectors from the command line and from REST,
offsets in ``offset.storage.file.filename``."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence

from kconnect.api.errors import ConnectException

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_BAD_CONFIG = 1
EXIT_CONNECTOR_ERROR = 3


def load_standalone_configs(worker_file: str, connector_files: Sequence[str]):
    """Read and check every file before anything starts; raises ConfigException naming the file."""
    from kconnect.api.errors import ConfigException
    from kconnect.cli import read_connector_file
    from kconnect.properties import read_properties
    from kconnect.runtime.worker_config import WorkerConfig
    from kconnect.runtime.worker_plugins import check_worker_converters

    worker_props = read_properties(worker_file)
    try:
        worker_config = WorkerConfig(worker_props)
        # As Kafka: a converter class that cannot be found stops the worker before it starts.
        check_worker_converters(worker_config)
    except ConfigException as error:
        raise ConfigException(f"Invalid worker configuration in {worker_file}: {error}") from error
    from kconnect.runtime.secret_masking import config_values_message

    log.info("%s", config_values_message("StandaloneConfig", worker_config))
    connectors = []
    for path in connector_files:
        props = read_connector_file(path)
        if not props.get("name"):
            raise ConfigException(f'Connector config file {path} has no "name"', name="name")
        from kconnect.runtime.connector_names import invalid_name_message

        bad_name = invalid_name_message(props["name"])
        if bad_name is not None:
            raise ConfigException(f"Connector config file {path}: {bad_name}", name="name")
        connectors.append((path, props))
    return worker_config, connectors


def start_standalone_herder(worker_config, connectors):
    """Create and start the herder, then the connectors given on the command line.
    Raises ConnectException (the caller exits) when the worker or a connector cannot start."""
    from kconnect.runtime.standalone.herder import StandaloneHerder

    herder = StandaloneHerder(worker_config)
    herder.start()
    for path, props in connectors:
        try:
            created, _ = herder.put_connector_config(props["name"], props, allow_replace=True)
        except Exception as error:
            herder.stop()
            raise ConnectorStartError(f"Failed to create connector for {path}: {error}") from error
        log.info("Created connector %s" if created else "Updated connector %s", props["name"])
    return herder


class ConnectorStartError(ConnectException):
    """A connector given on the command line could not be created."""


def run_standalone(worker_file: str, connector_files: Sequence[str]) -> int:
    """Run until SIGINT/SIGTERM; returns the process exit code."""
    try:
        worker_config, connectors = load_standalone_configs(worker_file, connector_files)
    except ConnectException as error:
        print(f"ERROR {error}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    try:
        from kconnect.rest.server import serve
    except ImportError:
        serve = None  # type: ignore[assignment]
    if serve is not None:
        return serve(worker_config, lambda: start_standalone_herder(worker_config, connectors))
    return _run_without_rest(worker_config, connectors)


def _run_without_rest(worker_config, connectors) -> int:
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        log.info("Received %s, stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        herder = start_standalone_herder(worker_config, connectors)
    except ConnectorStartError as error:
        log.error("Stopping after connector error: %s", error)
        return EXIT_CONNECTOR_ERROR
    except ConnectException as error:
        log.error("%s", error)
        return EXIT_BAD_CONFIG
    log.info("Kafka Connect started (pid %d)", os.getpid())
    while not stop.wait(1.0):
        pass
    herder.stop()
    return EXIT_OK
