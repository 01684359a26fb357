"""Offset storage: Kafka Connect's key/value format, atomic file writes, the per-connector views."""

from __future__ import annotations

import os

import pytest
from kconnect.api.errors import ConnectException
from kconnect.storage import file_offset_store as file_store
from kconnect.storage.file_offset_store import FileOffsetBackingStore
from kconnect.storage.offset_storage import (
    ConnectorOffsetReader,
    ConnectorOffsetWriter,
    parse_key,
    serialize_key,
)


def test_keys_are_kafka_connects_json_arrays():
    assert (
        serialize_key("local-file-source", {"filename": "/tmp/x"})
        == b'["local-file-source",{"filename":"/tmp/x"}]'
    )
    assert parse_key(b'["c",{"p":1}]') == ("c", {"p": 1})
    assert parse_key(b"not json") is None


def test_writer_commits_only_the_snapshot_and_reader_sees_it(tmp_path):
    store = FileOffsetBackingStore(str(tmp_path / "offsets"))
    store.start()
    writer = ConnectorOffsetWriter("c", store)
    writer.offset({"filename": "f"}, {"position": 10})
    snapshot = writer.snapshot()
    writer.offset({"filename": "f"}, {"position": 20})  # after the snapshot: next commit
    writer.commit(snapshot)
    reader = ConnectorOffsetReader("c", store)
    assert reader.offset({"filename": "f"}) == {"position": 10}
    assert ConnectorOffsetReader("other", store).offset({"filename": "f"}) is None
    # a new store reading the same file sees the committed offset
    again = FileOffsetBackingStore(str(tmp_path / "offsets"))
    again.start()
    assert ConnectorOffsetReader("c", again).offset({"filename": "f"}) == {"position": 10}


def test_restore_keeps_newer_offsets():
    from kconnect.storage.memory_offset_store import MemoryOffsetBackingStore

    writer = ConnectorOffsetWriter("c", MemoryOffsetBackingStore())
    writer.offset({"p": 1}, {"o": 1})
    snapshot = writer.snapshot()
    writer.offset({"p": 1}, {"o": 2})
    writer.restore(snapshot)
    assert [o for _, o in writer.snapshot().values()] == [{"o": 2}]


def test_a_crash_during_write_leaves_the_old_offsets(tmp_path, monkeypatch):
    path = tmp_path / "offsets"
    store = FileOffsetBackingStore(str(path))
    store.start()
    store.set({b'["c",{"p":1}]': b'{"o":1}'})
    before = path.read_bytes()

    def crash(*_args):
        raise OSError("disk full")

    monkeypatch.setattr(file_store.os, "replace", crash)
    with pytest.raises(OSError):
        store.set({b'["c",{"p":1}]': b'{"o":2}'})
    assert path.read_bytes() == before
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]


def test_a_corrupt_offsets_file_is_a_clear_error(tmp_path):
    path = tmp_path / "offsets"
    path.write_bytes(b"\xac\xed\x00\x05java-serialized")
    store = FileOffsetBackingStore(str(path))
    with pytest.raises(ConnectException, match="is not a kconnect offsets file"):
        store.start()


@pytest.mark.parametrize("content", [b"", b"\n  \n"])
def test_an_empty_offsets_file_is_refused_naming_the_file(tmp_path, content):
    path = tmp_path / "offsets"
    path.write_bytes(content)
    store = FileOffsetBackingStore(str(path))
    with pytest.raises(ConnectException, match=f"Offsets file {path} is empty") as error:
        store.start()
    assert "delete it to start afresh" in str(error.value)


def test_a_missing_offsets_file_is_a_new_store_and_no_offsets_are_written_as_a_document(tmp_path):
    path = tmp_path / "offsets"
    store = FileOffsetBackingStore(str(path))
    store.start()
    assert ConnectorOffsetReader("c", store).offset({"p": 1}) is None
    store.set({b'["c",{"p":1}]': None})  # the only offset removed: the file holds "{}"
    assert path.read_bytes().strip() == b"{}"
    again = FileOffsetBackingStore(str(path))
    again.start()
    assert ConnectorOffsetReader("c", again).offset({"p": 1}) is None
