"""Connector names with an encoded ``/`` (``%2F``) in ``/connectors/{connector}/…`` URLs.

New names may not contain ``/`` (see runtime.connector_names), but a config file or config topic
written before that rule (or by another implementation) may hold one. The server decodes
``%2F`` before routing, which would split the name into two path segments and make such a
connector unreachable, not even deletable. This middleware routes on the raw URI instead when
the connector segment holds an encoded ``/``: the resource gets the decoded name as its
``connector`` parameter. Other requests are left alone.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import falcon

_PREFIX = "/connectors/"
#: stands for the name while Falcon routes (any one-segment value matches ``{connector}``)
_PLACEHOLDER = "_"


class EncodedSlashNames:
    """Falcon middleware: route ``/connectors/a%2Fb/status`` to connector ``a/b``."""

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        raw = str(req.env.get("RAW_URI") or req.env.get("REQUEST_URI") or "")
        raw_path = raw.split("?", 1)[0]
        if not raw_path.startswith(_PREFIX) or "%2f" not in raw_path.lower():
            return
        segments = raw_path[len(_PREFIX) :].split("/")
        if "%2f" not in segments[0].lower():
            return
        req.context.encoded_connector_name = unquote(segments[0])
        rest = [unquote(segment) for segment in segments[1:]]
        req.path = _PREFIX + "/".join([_PLACEHOLDER, *rest])

    def process_resource(
        self, req: falcon.Request, resp: falcon.Response, resource: Any, params: dict[str, Any]
    ) -> None:
        name = getattr(req.context, "encoded_connector_name", None)
        if name is not None and "connector" in params:
            params["connector"] = name
