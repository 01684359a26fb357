"""A malformed chunked body surfaces only when a responder reads it (gunicorn parses chunks
lazily): it must answer 400 in Kafka's error shape, not 500."""

from __future__ import annotations

import falcon
import falcon.testing
from gunicorn.http.errors import ChunkMissingTerminator, InvalidChunkSize
from kconnect.rest import errors


class _ReadsABrokenBody:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        raise self.error


def _post(error: Exception) -> falcon.testing.Result:
    app = falcon.App()
    errors.install(app)
    app.add_route("/connectors", _ReadsABrokenBody(error))
    return falcon.testing.TestClient(app).simulate_post("/connectors", body="x")


def test_an_invalid_chunk_size_answers_400_with_kafkas_error_shape():
    result = _post(InvalidChunkSize(b"zz"))
    assert result.status_code == 400
    assert result.json["error_code"] == 400
    assert "Bad request" in result.json["message"]


def test_a_chunk_without_its_terminator_answers_400():
    result = _post(ChunkMissingTerminator(b"xxxx"))
    assert result.status_code == 400
