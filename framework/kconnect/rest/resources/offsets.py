"""``GET|PATCH|DELETE /connectors/{connector}/offsets`` (KIP-875).

PATCH and DELETE need the connector to be STOPPED (the herder answers 400 otherwise). Source
offsets are ``{"partition": {...}, "offset": {...}}``; sink offsets use ``kafka_topic``,
``kafka_partition`` and ``kafka_offset``.
"""

from __future__ import annotations

import falcon
from kconnect.rest.errors import bad_request
from kconnect.rest.http import HerderRef, read_json_object


class OffsetsResource:
    """A connector's offsets."""

    def __init__(self, herder: HerderRef):
        self.herder_ref = herder

    def on_get(self, req: falcon.Request, resp: falcon.Response, connector: str) -> None:
        resp.media = self.herder_ref.get().connector_offsets(connector)

    def on_patch(self, req: falcon.Request, resp: falcon.Response, connector: str) -> None:
        body = read_json_object(req)
        offsets = body.get("offsets")
        if not offsets:
            raise bad_request(
                "Partitions / offsets need to be provided for an alter offsets request"
            )
        if not isinstance(offsets, list):
            raise bad_request(
                '"offsets" must be a list of {"partition": {...}, "offset": {...}} objects'
            )
        entries = []
        for item in offsets:
            if not isinstance(item, dict):
                raise bad_request(
                    'Each entry of "offsets" must be an object with "partition" and "offset"'
                )
            partition, offset = item.get("partition"), item.get("offset")
            if partition is not None and not isinstance(partition, dict):
                raise bad_request("A partition must be a JSON object")
            if offset is not None and not isinstance(offset, dict):
                raise bad_request("An offset must be a JSON object or null")
            entries.append((partition, offset))
        message = self.herder_ref.get().alter_connector_offsets(connector, entries)
        resp.media = {"message": message}

    def on_delete(self, req: falcon.Request, resp: falcon.Response, connector: str) -> None:
        message = self.herder_ref.get().reset_connector_offsets(connector)
        resp.media = {"message": message}
