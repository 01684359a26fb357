"""The one herder interface: what the REST API and the command line ask of a worker, whichever
mode it runs in, and the errors the REST API maps onto status codes.

Every method is safe to call from any thread. Changes are carried out on the herder's own thread
and bounded by ``rest.request.timeout.ms``; a method either returns the result or raises one of
the errors below (or a :mod:`kconnect.api.errors` exception: NotFoundException -> 404,
AlreadyExistsException -> 409, ConfigException -> 400).
"""

from __future__ import annotations

import abc
import ssl
from collections.abc import Mapping
from typing import Any

from kconnect.api.errors import ConnectException
from kconnect.plugins import PluginRegistry
from kconnect.runtime.states import TargetState


class BadRequestError(ConnectException):
    """The request is invalid (REST answers 400)."""


class ConflictError(ConnectException):
    """The request conflicts with the current state (REST answers 409)."""


class RequestTimeoutError(ConnectException):
    """The herder did not complete the request in time (REST answers 500)."""


class RebalanceInProgressError(ConflictError):
    """The cluster is rebalancing; retry once it settled (409, as Kafka)."""

    def __init__(
        self,
        message: str = "Cannot complete request because of a conflicting operation (e.g. worker rebalance)",
    ):
        super().__init__(message)


class NotLeaderError(ConnectException):
    """Only the leader can do this. REST forwards the request to ``leader_url`` or, when no
    leader is known, answers 409."""

    def __init__(self, message: str, leader_url: str | None):
        super().__init__(message)
        self.leader_url = leader_url


class NotAssignedError(ConnectException):
    """The connector or task runs on another worker; REST forwards the request to ``owner_url``."""

    def __init__(self, message: str, owner_url: str | None):
        super().__init__(message)
        self.owner_url = owner_url


class Herder(abc.ABC):
    """What REST and the CLI use. Connector configs are string maps, as in Kafka."""

    registry: PluginRegistry
    #: the TLS context for requests to other workers' https listeners (None: the system's)
    rest_client_ssl_context: ssl.SSLContext | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    @abc.abstractmethod
    def start(self) -> None: ...

    @abc.abstractmethod
    def stop(self) -> None: ...

    @property
    @abc.abstractmethod
    def ready(self) -> bool:
        """True once the herder started (and, in a cluster, joined the group)."""

    @property
    @abc.abstractmethod
    def kafka_cluster_id(self) -> str | None: ...

    @abc.abstractmethod
    def health_check(self, timeout_s: float) -> None:
        """Return once the herder thread answers; raise RequestTimeoutError when stuck."""

    # -- queries -----------------------------------------------------------------------------
    @abc.abstractmethod
    def connectors(self) -> list[str]: ...

    @abc.abstractmethod
    def connector_config(self, name: str) -> dict[str, str]: ...

    @abc.abstractmethod
    def connector_info(self, name: str) -> dict[str, Any]: ...

    @abc.abstractmethod
    def connector_status(self, name: str) -> dict[str, Any]: ...

    @abc.abstractmethod
    def task_status(self, name: str, task: int) -> dict[str, Any]: ...

    @abc.abstractmethod
    def task_configs(self, name: str) -> list[dict[str, Any]]: ...

    @abc.abstractmethod
    def validate(self, config: Mapping[str, Any]) -> dict[str, Any]: ...

    @abc.abstractmethod
    def connector_active_topics(self, name: str) -> list[str]: ...

    @abc.abstractmethod
    def connector_offsets(self, name: str) -> dict[str, Any]: ...

    # -- changes -----------------------------------------------------------------------------
    @abc.abstractmethod
    def put_connector_config(
        self,
        name: str,
        config: Mapping[str, Any],
        allow_replace: bool,
        initial_state: TargetState | None = None,
    ) -> tuple[bool, dict[str, Any]]:
        """Create or update a connector; returns (created, connector info)."""

    @abc.abstractmethod
    def patch_connector_config(self, name: str, patch: Mapping[str, Any]) -> dict[str, Any]: ...

    @abc.abstractmethod
    def delete_connector(self, name: str) -> None: ...

    @abc.abstractmethod
    def pause_connector(self, name: str) -> None: ...

    @abc.abstractmethod
    def resume_connector(self, name: str) -> None: ...

    @abc.abstractmethod
    def stop_connector(self, name: str) -> None: ...

    @abc.abstractmethod
    def restart_connector(
        self, name: str, include_tasks: bool = False, only_failed: bool = False
    ) -> dict[str, Any] | None:
        """Restart; returns the status showing what restarts (None: the plain restart, 204)."""

    @abc.abstractmethod
    def restart_task(self, name: str, task: int) -> None: ...

    @abc.abstractmethod
    def reset_connector_active_topics(self, name: str) -> None: ...

    @abc.abstractmethod
    def alter_connector_offsets(self, name: str, entries: list[tuple[Any, Any]]) -> str: ...

    @abc.abstractmethod
    def reset_connector_offsets(self, name: str) -> str: ...

    def set_cluster_logger_level(self, namespace: str, level: str) -> None:
        """``PUT /admin/loggers/{namespace}?scope=cluster`` (``level``: a log4j name). One
        standalone worker is the whole cluster: the level is set here, at once."""
        from kconnect.runtime.loggers import LoggerLevels

        LoggerLevels().set_level(namespace, level)

    # -- internal (inter-worker) ---------------------------------------------------------------
    def put_task_configs(
        self, name: str, configs: list[dict[str, str]], headers: Mapping[str, str], body: bytes
    ) -> None:
        """``POST /connectors/{c}/tasks``: a follower hands task configs to the leader.
        Kafka's standalone answers 500 (UnsupportedOperationException); kconnect says 400."""
        raise BadRequestError(
            "Kafka Connect in standalone mode does not support externally setting task "
            "configurations."
        )
