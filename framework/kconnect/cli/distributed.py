"""Distributed mode: ``connect-distributed worker.properties`` starts one worker of a Connect
cluster. Workers with the same ``group.id`` share connectors and tasks through Kafka."""

from __future__ import annotations

import logging
import sys

from kconnect.api.errors import ConfigException, ConnectException

log = logging.getLogger(__name__)

EXIT_BAD_CONFIG = 1


def load_distributed_config(worker_file: str):
    """The worker's settings; ConfigException names the file and the key."""
    from kconnect.properties import read_properties
    from kconnect.runtime.secret_masking import config_values_message
    from kconnect.runtime.worker_config import DistributedWorkerConfig
    from kconnect.runtime.worker_plugins import check_worker_converters

    props = read_properties(worker_file)
    try:
        config = DistributedWorkerConfig(props)
        # As Kafka: a converter class that cannot be found stops the worker before it starts.
        check_worker_converters(config)
    except ConfigException as error:
        raise ConfigException(f"Invalid worker configuration in {worker_file}: {error}") from error
    # As Kafka does, with password-type values as [hidden].
    log.info("%s", config_values_message("DistributedConfig", config))
    return config


def start_distributed_herder(worker_config):
    """Create the herder, start its stores and join the group (raises when it cannot)."""
    from kconnect.runtime.distributed.herder import DistributedHerder

    herder = DistributedHerder(worker_config)
    herder.start()
    return herder


def run_distributed(worker_file: str) -> int:
    """Run until SIGINT/SIGTERM; returns the process exit code."""
    try:
        worker_config = load_distributed_config(worker_file)
    except ConnectException as error:
        print(f"ERROR {error}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    from kconnect.rest.server import serve

    return serve(worker_config, lambda: start_distributed_herder(worker_config))
