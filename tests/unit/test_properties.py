"""Java .properties files: Kafka's sample syntax, and clear errors for bad files."""

from __future__ import annotations

import pytest
from kconnect.api.errors import ConfigException
from kconnect.properties import read_properties


def test_reads_java_syntax(tmp_path):
    path = tmp_path / "w.properties"
    path.write_text(
        "# comment\n! also a comment\nbootstrap.servers=localhost:9092\n"
        "key.converter : org.apache.kafka.connect.json.JsonConverter\n"
        "long.value=first \\\n    second\nunicode=caf\\u00e9\nspaced   value with spaces\n"
    )
    assert read_properties(str(path)) == {
        "bootstrap.servers": "localhost:9092",
        "key.converter": "org.apache.kafka.connect.json.JsonConverter",
        "long.value": "first second",
        "unicode": "café",
        "spaced": "value with spaces",
    }


def test_missing_file(tmp_path):
    with pytest.raises(ConfigException, match="does not exist"):
        read_properties(str(tmp_path / "nope.properties"))


def test_invalid_unicode_escape_names_file_and_line(tmp_path):
    path = tmp_path / "bad.properties"
    path.write_text("a=1\nb=\\uZZZZ\n")
    with pytest.raises(ConfigException) as error:
        read_properties(str(path))
    assert str(path) in str(error.value) and "line 2" in str(error.value)


def test_binary_file_is_refused(tmp_path):
    path = tmp_path / "bin.properties"
    path.write_bytes(b"a=1\x00\x01")
    with pytest.raises(ConfigException, match="NUL bytes"):
        read_properties(str(path))
