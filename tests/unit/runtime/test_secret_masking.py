"""Secrets in log lines and status traces: resolved provider values and password-type values
become ``[hidden]``; short values are left alone; configs logged show ``[hidden]``."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest
from kconnect.runtime.config_transformer import WorkerConfigTransformer
from kconnect.runtime.secret_masking import (
    HIDDEN,
    SecretMasker,
    SecretMaskingFilter,
    config_values_message,
    install_log_masking,
    is_password_key,
)
from kconnect.runtime.states import State, TaskId
from kconnect.runtime.status_reporter import StatusReporter
from kconnect.runtime.worker_config import WorkerConfig
from kconnect.storage.memory_status_store import MemoryStatusBackingStore
from kconnect_builtins.config_providers import FileConfigProvider


def test_every_occurrence_is_hidden_and_overlapping_secrets_leave_no_tail() -> None:
    masker = SecretMasker()
    masker.add(["abcdef", "defghi", "topic-secret"])
    assert masker.mask("x abcdefghi y topic-secret topic-secret") == (
        f"x {HIDDEN} y {HIDDEN} {HIDDEN}"
    )
    assert masker.mask("nothing here") == "nothing here"


def test_a_secret_inside_a_longer_one_is_hidden_with_it() -> None:
    masker = SecretMasker()
    masker.add(["pass", "password-of-root"])
    assert masker.mask("a password-of-root b pass c") == f"a {HIDDEN} b {HIDDEN} c"


def test_short_values_are_not_masked() -> None:
    masker = SecretMasker()
    masker.add(["1", "on", "abc", None])
    assert not masker.active
    assert masker.mask("1 on abc") == "1 on abc"


def test_each_line_of_a_multi_line_secret_is_hidden() -> None:
    masker = SecretMasker()
    masker.add(["-----BEGIN KEY-----\nMIIEvQIBADANBg\n-----END KEY-----\n"])
    assert masker.mask("bad key line MIIEvQIBADANBg here") == f"bad key line {HIDDEN} here"


def _logger_with_filter(masker: SecretMasker) -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(SecretMaskingFilter(masker))
    parent = logging.getLogger("test_secret_masking_parent")
    parent.handlers[:] = [handler]
    parent.propagate = False
    parent.setLevel(logging.INFO)
    return logging.getLogger("test_secret_masking_parent.child"), stream


def test_the_filter_masks_messages_arguments_and_tracebacks_of_child_loggers() -> None:
    masker = SecretMasker()
    masker.add(["shadow-secret"])
    log, stream = _logger_with_filter(masker)
    log.info("topic %s is invalid", "shadow-secret")
    try:
        raise ValueError("Broker: Invalid topic shadow-secret")
    except ValueError:
        log.exception("task failed for %r", {"topic": "shadow-secret"})
    log.info("harmless %d", 5)
    text = stream.getvalue()
    assert "shadow-secret" not in text
    assert "topic [hidden] is invalid" in text
    assert "ValueError: Broker: Invalid topic [hidden]" in text
    assert "harmless 5" in text


def test_the_filter_leaves_records_untouched_when_no_secret_is_known() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "a %s", ("b",), None)
    assert SecretMaskingFilter(SecretMasker()).filter(record)
    assert (record.msg, record.args) == ("a %s", ("b",))


def test_install_puts_the_filter_on_root_handlers_and_gunicorn_loggers_once() -> None:
    root = logging.getLogger()
    handler = logging.StreamHandler(io.StringIO())
    root.addHandler(handler)
    try:
        first = install_log_masking()
        second = install_log_masking()
        assert first is second
        assert handler.filters.count(first) == 1
        assert first in logging.getLogger("gunicorn.error").filters
    finally:
        root.removeHandler(handler)
        for name in ("gunicorn.error", "gunicorn.access"):
            logging.getLogger(name).removeFilter(first)


def test_resolved_values_and_password_values_are_registered_by_the_transformer(
    tmp_path: Path,
) -> None:
    secrets = tmp_path / "shadow.properties"
    secrets.write_text("root=resolved-topic-secret\n", encoding="utf-8")
    provider = FileConfigProvider()
    provider.configure({})
    masker = SecretMasker()
    transformer = WorkerConfigTransformer({"file": provider}, masker)
    resolved = transformer.transform(
        {
            "topic": f"${{file:{secrets}:root}}",
            "connection.password": "db-password-1",
            "tasks.max": "1",
        }
    )
    assert resolved["topic"] == "resolved-topic-secret"
    assert masker.mask("resolved-topic-secret db-password-1 tasks 1") == (
        f"{HIDDEN} {HIDDEN} tasks 1"
    )
    WorkerConfigTransformer.from_worker_config(
        {"producer.ssl.key.password": "worker-key-pw", "sasl.jaas.config": "a b c d"},
        registry=None,  # type: ignore[arg-type] - no providers configured, never used
        masker=masker,
    )
    assert masker.mask("worker-key-pw and a b c d") == f"{HIDDEN} and {HIDDEN}"


def test_traces_written_to_the_status_store_are_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    from kconnect.runtime import status_reporter

    masker = SecretMasker()
    masker.add(["status-secret"])
    monkeypatch.setattr(status_reporter, "secret_masker", lambda: masker)
    store = MemoryStatusBackingStore()
    reporter = StatusReporter("w:8083", store)
    reporter.on_task_state(TaskId("c", 0), State.FAILED, "KafkaException: status-secret\n")
    reporter.on_connector_state("c", State.FAILED, "Error: status-secret")
    task = store.task(TaskId("c", 0))
    connector = store.connector("c")
    assert task is not None and task.trace == f"KafkaException: {HIDDEN}\n"
    assert connector is not None and connector.trace == f"Error: {HIDDEN}"


@pytest.mark.parametrize(
    "key",
    [
        "ssl.key.password",
        "producer.ssl.keystore.password",
        "consumer.override.sasl.jaas.config",
        "listeners.https.ssl.truststore.password",
        "connection.password",
        "ssl.keystore.key",
        "ssl.key.pem",
        "producer.ssl.key.pem",
    ],
)
def test_password_keys(key: str) -> None:
    assert is_password_key(key)


def test_the_worker_config_dump_hides_password_values() -> None:
    config = WorkerConfig(
        {
            "key.converter": "Json",
            "value.converter": "Json",
            "offset.storage.file.filename": "/tmp/offsets",
            "producer.ssl.key.password": "pw-in-producer",
            "sasl.jaas.config": 'org.apache...PlainLoginModule required password="jaas-pw";',
        }
    )
    message = config_values_message("StandaloneConfig", config)
    assert message.startswith("StandaloneConfig values: \n")
    assert "\tproducer.ssl.key.password = [hidden]" in message
    assert "\tsasl.jaas.config = [hidden]" in message
    assert "\toffset.storage.file.filename = /tmp/offsets" in message
    assert "pw-in-producer" not in message and "jaas-pw" not in message


def test_dead_letter_queue_context_headers_are_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    from kconnect.api.errors import DataException
    from kconnect.runtime.errors import dead_letter_queue
    from kconnect.runtime.errors.dead_letter_queue import DeadLetterQueueReporter

    from tests.unit.runtime.test_dead_letter_queue import (
        FakeMessage,
        FakeProducer,
        context,
        raised,
    )

    masker = SecretMasker()
    masker.add(["dlq-secret-value"])
    monkeypatch.setattr(dead_letter_queue, "secret_masker", lambda: masker)
    producer = FakeProducer()
    reporter = DeadLetterQueueReporter("dlq", "sink", 0, producer, context_headers=True)
    reporter.report(context(raised(DataException("bad dlq-secret-value")), FakeMessage()))
    decoded = {k: (v or b"").decode() for k, v in producer.produced[0]["headers"]}
    assert decoded["__connect.errors.exception.message"] == f"bad {HIDDEN}"
    assert "dlq-secret-value" not in decoded["__connect.errors.exception.stacktrace"]


def test_a_plugins_password_type_keys_are_hidden_whatever_their_name() -> None:
    from kconnect.api.config import ConfigDef
    from kconnect.runtime.secret_masking import sensitive_keys

    definition = (
        ConfigDef()
        .define("api.token", ConfigDef.Type.PASSWORD, None, None, ConfigDef.Importance.HIGH, "t")
        .define("url", ConfigDef.Type.STRING, None, None, ConfigDef.Importance.HIGH, "u")
    )
    hidden = sensitive_keys(definition)
    assert hidden == {"api.token"}
    message = config_values_message(
        "ConnectorConfig", {"api.token": "tok-123456", "url": "http://x"}, hidden
    )
    assert "\tapi.token = [hidden]" in message and "\turl = http://x" in message
    assert "tok-123456" not in message
