"""The standalone config file: kept across restarts, never written empty, refused when empty."""

from __future__ import annotations

import pytest
from kconnect.api.errors import ConnectException
from kconnect.runtime.states import TargetState
from kconnect.storage.file_config_store import FileConfigBackingStore


@pytest.mark.parametrize("content", [b"", b" \n"])
def test_an_empty_config_file_is_refused_naming_the_file(tmp_path, content):
    path = tmp_path / "connect.configs"
    path.write_bytes(content)
    with pytest.raises(ConnectException, match=f"Config storage file {path} is empty") as error:
        FileConfigBackingStore(str(path))
    assert "delete it to start afresh" in str(error.value)
    assert path.read_bytes() == content


def test_a_missing_file_is_a_new_store_and_no_connectors_are_written_as_a_document(tmp_path):
    path = tmp_path / "connect.configs"
    store = FileConfigBackingStore(str(path))
    assert store.snapshot().connectors() == []
    store.put_connector_config("c", {"connector.class": "X"}, TargetState.PAUSED)
    assert FileConfigBackingStore(str(path)).snapshot().target_states == {"c": TargetState.PAUSED}
    store.remove_connector_config("c")  # none left: still a document, never an empty file
    assert path.read_bytes().strip() != b""
    assert FileConfigBackingStore(str(path)).snapshot().connectors() == []


def test_a_config_path_that_cannot_be_read_is_a_clear_error(tmp_path):
    with pytest.raises(ConnectException, match=f"Could not read config storage file {tmp_path}"):
        FileConfigBackingStore(str(tmp_path))
