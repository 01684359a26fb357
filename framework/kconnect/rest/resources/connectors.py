"""``/connectors`` and everything under a connector except its offsets.

Status codes, bodies and messages follow Apache Kafka Connect's ConnectorsResource.
"""

from __future__ import annotations

import logging
from typing import Any

import falcon
from kconnect.api.errors import NotFoundException
from kconnect.rest.errors import ConnectRestError, bad_request, not_found
from kconnect.rest.http import (
    HerderRef,
    no_content,
    query_flag,
    read_json,
    read_json_object,
    string_map,
)
from kconnect.runtime.states import TargetState

log = logging.getLogger(__name__)


def _check_and_put_name(name: str, config: dict[str, Any]) -> None:
    """The name in the config must match the URL's; absent, it is filled in."""
    included = config.get("name")
    if included is not None:
        if included != name:
            raise bad_request(
                f"Connector name configuration ({included}) doesn't match connector name "
                f"in the URL ({name})"
            )
    else:
        config["name"] = name


def _location(name: str) -> str:
    return "/connectors/" + falcon.uri.encode_value(name)


class _HerderResource:
    def __init__(self, herder: HerderRef):
        self.herder_ref = herder

    @property
    def herder(self) -> Any:
        return self.herder_ref.get()


class ConnectorsResource(_HerderResource):
    """``GET /connectors`` (with ``expand``), ``POST /connectors``."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        herder = self.herder
        expansions = req.get_param_as_list("expand")
        if expansions is None:
            resp.media = herder.connectors()
            return
        out: dict[str, dict[str, Any]] = {}
        for name in herder.connectors():
            entry: dict[str, Any] = {}
            try:
                for expansion in expansions:
                    if expansion == "status":
                        entry["status"] = herder.connector_status(name)
                    elif expansion == "info":
                        entry["info"] = herder.connector_info(name)
                    else:
                        log.info("Ignoring unknown expansion type %s", expansion)
            except NotFoundException:
                # Deleted while we looked it up: leave it out, as Kafka does.
                continue
            out[name] = entry
        resp.media = out

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = read_json_object(req, keep_number_text=True)
        raw_name = body.get("name")
        if raw_name is not None and not isinstance(raw_name, str):
            raise bad_request("Connector name must be a string")
        name = (raw_name or "").strip()
        if body.get("config") is None:
            raise bad_request('Connector config is missing: the request needs a "config" object')
        config = string_map(body["config"], "Connector config")
        config = {k: v for k, v in config.items() if v is not None}
        initial = body.get("initial_state")
        target = None
        if initial is not None:
            try:
                target = TargetState.from_initial_state(str(initial))
            except ValueError:
                raise bad_request(
                    f"Invalid initial_state {initial!r}: expected RUNNING, PAUSED or STOPPED"
                ) from None
        if not name:
            raise bad_request("Connector name must not be empty")
        _check_and_put_name(name, config)
        _, info = self.herder.put_connector_config(
            name, config, allow_replace=False, initial_state=target
        )
        resp.status = 201
        resp.location = _location(name)
        resp.media = info


class ConnectorResource(_HerderResource):
    """``GET|DELETE /connectors/{connector}``."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, connector: str) -> None:
        resp.media = self.herder.connector_info(connector)

    def on_delete(self, req: falcon.Request, resp: falcon.Response, connector: str) -> None:
        self.herder.delete_connector(connector)
        no_content(resp)


class ConnectorConfigResource(_HerderResource):
    """``GET|PUT|PATCH /connectors/{connector}/config``."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, connector: str) -> None:
        resp.media = self.herder.connector_config(connector)

    def on_put(self, req: falcon.Request, resp: falcon.Response, connector: str) -> None:
        config = {
            k: v
            for k, v in string_map(
                read_json(req, keep_number_text=True), "Connector config"
            ).items()
            if v is not None
        }
        _check_and_put_name(connector, config)
        created, info = self.herder.put_connector_config(connector, config, allow_replace=True)
        if created:
            resp.status = 201
            resp.location = _location(connector)
        resp.media = info

    def on_patch(self, req: falcon.Request, resp: falcon.Response, connector: str) -> None:
        patch = string_map(read_json(req, keep_number_text=True), "Connector config patch")
        if "name" in patch and patch["name"] != connector:
            raise bad_request(
                f"Connector name configuration ({patch['name']}) doesn't match connector name "
                f"in the URL ({connector})"
            )
        resp.media = self.herder.patch_connector_config(connector, patch)


class ConnectorStatusResource(_HerderResource):
    """``GET /connectors/{connector}/status``."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, connector: str) -> None:
        resp.media = self.herder.connector_status(connector)


class ConnectorRestartResource(_HerderResource):
    """``POST /connectors/{connector}/restart?includeTasks=&onlyFailed=``."""

    def on_post(self, req: falcon.Request, resp: falcon.Response, connector: str) -> None:
        include_tasks = query_flag(req, "includeTasks", False)
        only_failed = query_flag(req, "onlyFailed", False)
        if not include_tasks and not only_failed:
            # Kafka's backward-compatible form: restart the connector object alone, no body.
            self.herder.restart_connector(connector)
            no_content(resp)
            return
        resp.status = 202
        resp.media = self.herder.restart_connector(connector, include_tasks, only_failed)


class ConnectorPauseResource(_HerderResource):
    """``PUT /connectors/{connector}/pause`` (202, idempotent)."""

    def on_put(self, req: falcon.Request, resp: falcon.Response, connector: str) -> None:
        self.herder.pause_connector(connector)
        no_content(resp, 202)


class ConnectorResumeResource(_HerderResource):
    """``PUT /connectors/{connector}/resume`` (202, idempotent)."""

    def on_put(self, req: falcon.Request, resp: falcon.Response, connector: str) -> None:
        self.herder.resume_connector(connector)
        no_content(resp, 202)


class ConnectorStopResource(_HerderResource):
    """``PUT /connectors/{connector}/stop`` (204, idempotent)."""

    def on_put(self, req: falcon.Request, resp: falcon.Response, connector: str) -> None:
        self.herder.stop_connector(connector)
        no_content(resp)


class TasksResource(_HerderResource):
    """``GET /connectors/{connector}/tasks``: each task's id and config (with ``task.class``).
    ``POST``: internal, a worker hands the leader its connector's task configs, signed with
    the cluster's session key (checked by the herder: unsigned 400, bad signature 403)."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, connector: str) -> None:
        resp.media = self.herder.task_configs(connector)

    def on_post(self, req: falcon.Request, resp: falcon.Response, connector: str) -> None:
        configs = read_json(req)
        # The herder checks the signature first, then the shape of the body.
        self.herder.put_task_configs(connector, configs, req.headers, req.context.raw_body)
        no_content(resp)


def _no_negative_task(connector: str, task: int, message: str) -> None:
    """Task ids are 0, 1, …: a negative one names no task, and never reaches the herder (a
    worker once started a second copy of task 0 as ``{c}--1``)."""
    if task < 0:
        raise not_found(message.format(task=f"{connector}-{task}"))


class TaskStatusResource(_HerderResource):
    """``GET /connectors/{connector}/tasks/{task}/status``."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, connector: str, task: int) -> None:
        _no_negative_task(connector, task, "No status found for task {task}")
        resp.media = self.herder.task_status(connector, task)


class TaskRestartResource(_HerderResource):
    """``POST /connectors/{connector}/tasks/{task}/restart`` (204; 404 for a task the connector
    does not have now, checked by the herder on its own thread)."""

    def on_post(
        self, req: falcon.Request, resp: falcon.Response, connector: str, task: int
    ) -> None:
        _no_negative_task(connector, task, "Task {task} not found")
        self.herder.restart_task(connector, task)
        no_content(resp)


class _TopicTracking(_HerderResource):
    def __init__(self, herder: HerderRef, tracking_enabled: bool, reset_enabled: bool):
        super().__init__(herder)
        self.tracking_enabled = tracking_enabled
        self.reset_enabled = reset_enabled

    def _require_tracking(self) -> None:
        if not self.tracking_enabled:
            raise ConnectRestError(403, "Topic tracking is disabled.")


class TopicsResource(_TopicTracking):
    """``GET /connectors/{connector}/topics`` -> ``{"<connector>": {"topics": [...]}}``."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, connector: str) -> None:
        self._require_tracking()
        resp.media = {connector: {"topics": self.herder.connector_active_topics(connector)}}


class TopicsResetResource(_TopicTracking):
    """``PUT /connectors/{connector}/topics/reset`` (202)."""

    def on_put(self, req: falcon.Request, resp: falcon.Response, connector: str) -> None:
        self._require_tracking()
        if not self.reset_enabled:
            raise ConnectRestError(403, "Topic tracking reset is disabled.")
        self.herder.reset_connector_active_topics(connector)
        no_content(resp, 202)
