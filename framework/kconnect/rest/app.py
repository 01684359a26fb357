"""The Falcon application of Kafka Connect's REST API.

``create_app(herder, worker_config)`` builds it: orjson media handlers, Kafka's error shape for
every failure, one resource class per REST resource, CORS and extra response headers from the
worker config, ``/admin`` only where ``admin.listeners`` says, then the REST extensions of
``rest.extension.classes`` (Basic authentication…) and those registered under the
``kconnect.hooks`` entry points.
"""

from __future__ import annotations

import logging
from typing import Any

import falcon
import falcon.media
import orjson
from kconnect.plugins import PluginRegistry, hooks, worker_registry
from kconnect.rest import errors
from kconnect.rest.encoded_names import EncodedSlashNames
from kconnect.rest.extensions import RestExtension, load_rest_extensions
from kconnect.rest.http import HerderRef
from kconnect.rest.listeners import AdminListenerMiddleware, RestListeners, rest_listeners
from kconnect.rest.middleware import CorsMiddleware, ResponseHeadersMiddleware, parse_header_rules
from kconnect.rest.openapi import openapi_document
from kconnect.rest.resources import connector_plugins, connectors, loggers, metrics, offsets, root

log = logging.getLogger(__name__)

_DEFAULT_TIMEOUT_S = 90.0


def _setting(worker_config: Any, key: str, default: Any) -> Any:
    if worker_config is None:
        return default
    value = worker_config.get(key)
    return default if value is None else value


def create_app(
    herder: Any,
    worker_config: Any = None,
    registry: PluginRegistry | None = None,
    *,
    listeners: RestListeners | None = None,
    extensions: list[RestExtension] | None = None,
) -> falcon.App:
    """The WSGI app. ``herder`` is a herder, or a :class:`HerderRef` filled in once it started.
    ``listeners`` and ``extensions`` (``rest.extension.classes``) are read from
    ``worker_config`` unless the server already did."""
    ref = herder if isinstance(herder, HerderRef) else HerderRef(herder)
    if registry is None:
        registry = getattr(ref.peek(), "registry", None) or worker_registry(worker_config)
    timeout_s = (
        float(_setting(worker_config, "rest.request.timeout.ms", _DEFAULT_TIMEOUT_S * 1000)) / 1000
    )

    # Names stored with a '/' stay reachable (and deletable) through their %2F-encoded URL.
    middleware: list[Any] = [EncodedSlashNames()]
    rules = parse_header_rules(str(_setting(worker_config, "response.http.headers.config", "")))
    if rules:
        middleware.append(ResponseHeadersMiddleware(rules))
    allow_origin = str(_setting(worker_config, "access.control.allow.origin", ""))
    if allow_origin:
        middleware.append(
            CorsMiddleware(
                allow_origin, str(_setting(worker_config, "access.control.allow.methods", ""))
            )
        )

    if listeners is None and hasattr(worker_config, "originals"):
        listeners = rest_listeners(worker_config)
    if listeners is not None and listeners.admin is not None:
        middleware.append(AdminListenerMiddleware(listeners))
    if extensions is None:
        props = worker_config.originals() if hasattr(worker_config, "originals") else worker_config
        extensions = load_rest_extensions(props or {})

    app = falcon.App(middleware=middleware)
    json_handler = falcon.media.JSONHandler(dumps=orjson.dumps, loads=orjson.loads)
    app.req_options.media_handlers = falcon.media.Handlers({falcon.MEDIA_JSON: json_handler})
    app.resp_options.media_handlers = falcon.media.Handlers({falcon.MEDIA_JSON: json_handler})
    # Kafka's own examples call ".../config/validate/" with the trailing slash.
    app.req_options.strip_url_path_trailing_slash = True
    app.req_options.auto_parse_qs_csv = False
    errors.install(app, ref)

    tracking = bool(_setting(worker_config, "topic.tracking.enable", True))
    tracking_reset = bool(_setting(worker_config, "topic.tracking.allow.reset", True))
    levels = loggers.LoggerLevels()

    app.add_route("/", root.RootResource(ref))
    app.add_route("/health", root.HealthResource(ref))
    app.add_route("/openapi.json", root.OpenApiResource(openapi_document()))
    app.add_route("/connectors", connectors.ConnectorsResource(ref))
    app.add_route("/connectors/{connector}", connectors.ConnectorResource(ref))
    app.add_route("/connectors/{connector}/config", connectors.ConnectorConfigResource(ref))
    app.add_route("/connectors/{connector}/status", connectors.ConnectorStatusResource(ref))
    app.add_route("/connectors/{connector}/restart", connectors.ConnectorRestartResource(ref))
    app.add_route("/connectors/{connector}/pause", connectors.ConnectorPauseResource(ref))
    app.add_route("/connectors/{connector}/resume", connectors.ConnectorResumeResource(ref))
    app.add_route("/connectors/{connector}/stop", connectors.ConnectorStopResource(ref))
    app.add_route("/connectors/{connector}/tasks", connectors.TasksResource(ref))
    app.add_route(
        "/connectors/{connector}/tasks/{task:int}/status", connectors.TaskStatusResource(ref)
    )
    app.add_route(
        "/connectors/{connector}/tasks/{task:int}/restart", connectors.TaskRestartResource(ref)
    )
    app.add_route(
        "/connectors/{connector}/topics", connectors.TopicsResource(ref, tracking, tracking_reset)
    )
    app.add_route(
        "/connectors/{connector}/topics/reset",
        connectors.TopicsResetResource(ref, tracking, tracking_reset),
    )
    app.add_route("/connectors/{connector}/offsets", offsets.OffsetsResource(ref))
    app.add_route("/connector-plugins", connector_plugins.ConnectorPluginsResource(registry))
    app.add_route(
        "/connector-plugins/{plugin}/config",
        connector_plugins.ConnectorPluginConfigResource(registry, timeout_s),
    )
    app.add_route(
        "/connector-plugins/{plugin}/config/validate",
        connector_plugins.ConnectorPluginValidateResource(ref),
    )
    app.add_route("/metrics", metrics.MetricsResource(ref))
    app.add_route("/admin/loggers", loggers.LoggersResource(levels))
    app.add_route("/admin/loggers/{logger}", loggers.LoggerResource(levels, ref))

    # Extensions come after CORS and listener routing: their middleware (authentication) sees
    # only requests those let through.
    for extension in extensions:
        extension.register(app, ref)
    try:
        hooks().hook.kconnect_rest_extension(app=app, herder=ref)
    except Exception:  # noqa: BLE001 - a broken extension is logged; the API keeps serving
        log.exception("A kconnect_rest_extension hook failed")
    return app
