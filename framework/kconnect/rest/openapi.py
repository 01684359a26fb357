"""The OpenAPI 3.1 document of the REST API, served at ``GET /openapi.json``.

It is checked against real responses (tests/integration/rest/test_schemathesis.py), so every
status code an operation can answer is listed here.
"""

from __future__ import annotations

from typing import Any

from kconnect import __version__

_REF = "#/components/schemas/"


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": _REF + name}


def _obj(
    properties: dict[str, Any], required: list[str] | None = None, extra: bool = True
) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    schema["required"] = list(properties) if required is None else required
    if not extra:
        schema["additionalProperties"] = False
    return schema


_STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
_NULLABLE_STRING = {"type": ["string", "null"]}
_STATE = {
    "type": "string",
    "enum": ["UNASSIGNED", "RUNNING", "PAUSED", "STOPPED", "FAILED", "RESTARTING", "DESTROYED"],
}
_CONNECTOR_TYPE = {"type": "string", "enum": ["source", "sink", "unknown"]}

SCHEMAS: dict[str, Any] = {
    "ErrorMessage": _obj({"error_code": {"type": "integer"}, "message": _NULLABLE_STRING}),
    "ServerInfo": _obj(
        {
            "version": {"type": "string"},
            "commit": {"type": "string"},
            "kafka_cluster_id": _NULLABLE_STRING,
        }
    ),
    "WorkerStatus": _obj(
        {
            "status": {"type": "string", "enum": ["healthy", "starting", "unhealthy"]},
            "message": {"type": "string"},
        }
    ),
    "ConnectorTaskId": _obj({"connector": {"type": "string"}, "task": {"type": "integer"}}),
    "ConnectorInfo": _obj(
        {
            "name": {"type": "string"},
            "config": _STRING_MAP,
            "tasks": {"type": "array", "items": _ref("ConnectorTaskId")},
            "type": _CONNECTOR_TYPE,
        }
    ),
    "ConnectorState": _obj(
        {
            "state": _STATE,
            "worker_id": {"type": "string"},
            "trace": {"type": "string"},
            "version": _NULLABLE_STRING,
        },
        required=["state", "worker_id"],
    ),
    "TaskState": _obj(
        {
            "id": {"type": "integer"},
            "state": _STATE,
            "worker_id": {"type": "string"},
            "trace": {"type": "string"},
            "version": _NULLABLE_STRING,
        },
        required=["id", "state", "worker_id"],
    ),
    "ConnectorStateInfo": _obj(
        {
            "name": {"type": "string"},
            "connector": _ref("ConnectorState"),
            "tasks": {"type": "array", "items": _ref("TaskState")},
            "type": _CONNECTOR_TYPE,
        }
    ),
    "TaskInfo": _obj({"id": _ref("ConnectorTaskId"), "config": _STRING_MAP}),
    "ActiveTopicsInfo": {
        "type": "object",
        "additionalProperties": _obj({"topics": {"type": "array", "items": {"type": "string"}}}),
    },
    "ConnectorOffset": _obj(
        {"partition": {"type": "object"}, "offset": {"type": ["object", "null"]}}
    ),
    "ConnectorOffsets": _obj({"offsets": {"type": "array", "items": _ref("ConnectorOffset")}}),
    "Message": _obj({"message": {"type": "string"}}),
    "PluginInfo": _obj(
        {
            "class": {"type": "string"},
            "type": {
                "type": "string",
                "enum": [
                    "source",
                    "sink",
                    "transformation",
                    "predicate",
                    "converter",
                    "header_converter",
                ],
            },
            "version": {"type": "string"},
        },
        required=["class", "type"],
    ),
    "ConfigKeyInfo": _obj(
        {
            "name": {"type": "string"},
            "type": {"type": "string"},
            "required": {"type": "boolean"},
            "default_value": _NULLABLE_STRING,
            "importance": {"type": "string"},
            "documentation": _NULLABLE_STRING,
            "group": _NULLABLE_STRING,
            "order_in_group": {"type": "integer"},
            "width": {"type": "string"},
            "display_name": {"type": "string"},
            "dependents": {"type": "array", "items": {"type": "string"}},
        }
    ),
    "ConfigValueInfo": _obj(
        {
            "name": {"type": "string"},
            "value": _NULLABLE_STRING,
            "recommended_values": {"type": "array", "items": {"type": "string"}},
            "errors": {"type": "array", "items": {"type": "string"}},
            "visible": {"type": "boolean"},
        }
    ),
    "ConfigInfo": _obj({"definition": _ref("ConfigKeyInfo"), "value": _ref("ConfigValueInfo")}),
    "ConfigInfos": _obj(
        {
            "name": {"type": "string"},
            "error_count": {"type": "integer"},
            "groups": {"type": "array", "items": {"type": "string"}},
            "configs": {"type": "array", "items": _ref("ConfigInfo")},
        }
    ),
    "LoggerLevel": _obj(
        {"level": {"type": "string"}, "last_modified": {"type": ["integer", "null"]}}
    ),
    "CreateConnectorRequest": _obj(
        {
            "name": {"type": "string"},
            "config": _STRING_MAP,
            "initial_state": {"type": "string", "enum": ["RUNNING", "PAUSED", "STOPPED"]},
        },
        required=["name", "config"],
    ),
    "ConfigPatch": {"type": "object", "additionalProperties": {"type": ["string", "null"]}},
    "LevelRequest": _obj({"level": {"type": "string"}}),
}

_ERROR_TEXT = {
    400: "Bad request (invalid config, wrong state, malformed body)",
    403: "Forbidden (topic tracking disabled)",
    404: "Not found",
    409: "Conflict",
    415: "Unsupported media type (the body must be application/json)",
    500: "Internal error, or the request timed out",
    503: "The worker is still starting",
}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _op(
    summary: str,
    ok: dict[int, dict[str, Any] | None],
    errors: tuple[int, ...] = (),
    body: dict[str, Any] | None = None,
    params: list[dict[str, Any]] | None = None,
    tag: str = "connectors",
) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status, schema in ok.items():
        responses[str(status)] = (
            _json(schema, "OK") if schema is not None else {"description": "No content"}
        )
    for status in sorted(set(errors) | {500, 503}):
        responses[str(status)] = _json(_ref("ErrorMessage"), _ERROR_TEXT[status])
    op: dict[str, Any] = {"summary": summary, "tags": [tag], "responses": responses}
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
        responses.setdefault("415", _json(_ref("ErrorMessage"), _ERROR_TEXT[415]))
        responses.setdefault("400", _json(_ref("ErrorMessage"), _ERROR_TEXT[400]))
    if params:
        op["parameters"] = params
    return op


def _path_param(name: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": schema or {"type": "string"}}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


_CONNECTOR = [_path_param("connector")]
_TASK = [_path_param("connector"), _path_param("task", {"type": "integer"})]
_FLAG = {"type": "string", "enum": ["true", "false"]}


def openapi_document() -> dict[str, Any]:
    """The whole document, built fresh (callers may change their copy)."""
    c = _CONNECTOR
    paths: dict[str, Any] = {
        "/": {
            "get": _op(
                "Worker version and the id of its Kafka cluster",
                {200: _ref("ServerInfo")},
                tag="worker",
            )
        },
        "/health": {
            "get": {
                "summary": "Worker readiness and liveness",
                "tags": ["worker"],
                "responses": {
                    "200": _json(_ref("WorkerStatus"), "Healthy"),
                    "500": _json(_ref("WorkerStatus"), "Unhealthy"),
                    "503": _json(_ref("WorkerStatus"), "Starting"),
                },
            }
        },
        "/connectors": {
            "get": _op(
                "List connectors; expand=status and/or expand=info return a map of details",
                {
                    200: {
                        "oneOf": [
                            {"type": "array", "items": {"type": "string"}},
                            {
                                "type": "object",
                                "additionalProperties": _obj(
                                    {
                                        "status": _ref("ConnectorStateInfo"),
                                        "info": _ref("ConnectorInfo"),
                                    },
                                    required=[],
                                ),
                            },
                        ]
                    }
                },
                params=[
                    {
                        **_query(
                            "expand",
                            {
                                "type": "array",
                                "items": {"type": "string", "enum": ["status", "info"]},
                            },
                            "Details to include",
                        ),
                        "style": "form",
                        "explode": True,
                    }
                ],
            ),
            "post": _op(
                "Create a connector",
                {201: _ref("ConnectorInfo")},
                (400, 409),
                body=_ref("CreateConnectorRequest"),
            ),
        },
        "/connectors/{connector}": {
            "get": _op(
                "A connector's config and tasks", {200: _ref("ConnectorInfo")}, (404,), params=c
            ),
            "delete": _op("Delete a connector", {204: None}, (404, 409), params=c),
        },
        "/connectors/{connector}/config": {
            "get": _op("A connector's config", {200: _STRING_MAP}, (404,), params=c),
            "put": _op(
                "Create or replace a connector's config",
                {200: _ref("ConnectorInfo"), 201: _ref("ConnectorInfo")},
                (400, 409),
                body=_STRING_MAP,
                params=c,
            ),
            "patch": _op(
                "Merge into a connector's config (null removes a key)",
                {200: _ref("ConnectorInfo")},
                (400, 404, 409),
                body=_ref("ConfigPatch"),
                params=c,
            ),
        },
        "/connectors/{connector}/status": {
            "get": _op(
                "A connector's and its tasks' states",
                {200: _ref("ConnectorStateInfo")},
                (404,),
                params=c,
            )
        },
        "/connectors/{connector}/restart": {
            "post": _op(
                "Restart a connector (and, with includeTasks/onlyFailed, its tasks)",
                {202: _ref("ConnectorStateInfo"), 204: None},
                (404, 409),
                params=c
                + [
                    _query("includeTasks", _FLAG, "Also restart the tasks"),
                    _query("onlyFailed", _FLAG, "Only restart what FAILED"),
                ],
            )
        },
        "/connectors/{connector}/pause": {
            "put": _op("Pause a connector", {202: None}, (404,), params=c)
        },
        "/connectors/{connector}/resume": {
            "put": _op("Resume a connector", {202: None}, (404,), params=c)
        },
        "/connectors/{connector}/stop": {
            "put": _op("Stop a connector", {204: None}, (404,), params=c)
        },
        "/connectors/{connector}/tasks": {
            "get": _op(
                "A connector's task configs",
                {200: {"type": "array", "items": _ref("TaskInfo")}},
                (404,),
                params=c,
            ),
            "post": _op(
                "Internal: a worker hands the leader its connector's task configs (signed)",
                {204: None},
                (400, 403, 404, 409),
                body={"type": "array", "items": _STRING_MAP},
                params=c,
            ),
        },
        "/connectors/{connector}/tasks/{task}/status": {
            "get": _op("A task's state", {200: _ref("TaskState")}, (404,), params=_TASK)
        },
        "/connectors/{connector}/tasks/{task}/restart": {
            "post": _op("Restart a task", {204: None}, (404, 409), params=_TASK)
        },
        "/connectors/{connector}/topics": {
            "get": _op(
                "Topics the connector used", {200: _ref("ActiveTopicsInfo")}, (403, 404), params=c
            )
        },
        "/connectors/{connector}/topics/reset": {
            "put": _op("Forget the topics the connector used", {202: None}, (403, 404), params=c)
        },
        "/connectors/{connector}/offsets": {
            "get": _op("A connector's offsets", {200: _ref("ConnectorOffsets")}, (404,), params=c),
            "patch": _op(
                "Alter the offsets of a STOPPED connector",
                {200: _ref("Message")},
                (400, 404),
                body=_ref("ConnectorOffsets"),
                params=c,
            ),
            "delete": _op(
                "Reset the offsets of a STOPPED connector",
                {200: _ref("Message")},
                (400, 404),
                params=c,
            ),
        },
        "/connector-plugins": {
            "get": _op(
                "Installed plugins",
                {200: {"type": "array", "items": _ref("PluginInfo")}},
                params=[_query("connectorsOnly", _FLAG, "List connectors only (default true)")],
                tag="plugins",
            )
        },
        "/connector-plugins/{plugin}/config": {
            "get": _op(
                "A plugin's config definition",
                {200: {"type": "array", "items": _ref("ConfigKeyInfo")}},
                (400, 404),
                params=[_path_param("plugin")],
                tag="plugins",
            )
        },
        "/connector-plugins/{plugin}/config/validate": {
            "put": _op(
                "Validate a connector config",
                {200: _ref("ConfigInfos")},
                (400, 404),
                body=_STRING_MAP,
                params=[_path_param("plugin")],
                tag="plugins",
            )
        },
        "/admin/loggers": {
            "get": _op(
                "Loggers with an explicit level",
                {200: {"type": "object", "additionalProperties": _ref("LoggerLevel")}},
                tag="admin",
            )
        },
        "/admin/loggers/{logger}": {
            "get": _op(
                "A logger's level",
                {200: _ref("LoggerLevel")},
                (404,),
                params=[_path_param("logger")],
                tag="admin",
            ),
            "put": _op(
                "Set the level of a logger and the loggers under it",
                {200: {"type": "array", "items": {"type": "string"}}, 204: None},
                (400, 404),
                body=_ref("LevelRequest"),
                params=[
                    _path_param("logger"),
                    _query(
                        "scope",
                        {"type": "string", "enum": ["worker", "cluster"]},
                        "worker or cluster",
                    ),
                ],
                tag="admin",
            ),
        },
        "/metrics": {
            "get": {
                "summary": "The worker's metrics in Prometheus' text format",
                "tags": ["worker"],
                "responses": {
                    "200": {
                        "description": "Prometheus text exposition format (or OpenMetrics)",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    },
                    "404": _json(_ref("ErrorMessage"), "Metrics are disabled"),
                },
            }
        },
        "/openapi.json": {
            "get": {
                "summary": "This document",
                "tags": ["worker"],
                "responses": {"200": _json({"type": "object"}, "The OpenAPI document")},
            }
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "kconnect REST API",
            "version": __version__,
            "description": "Apache Kafka Connect's REST API, served by kconnect.",
        },
        "paths": paths,
        "components": {"schemas": SCHEMAS},
    }
