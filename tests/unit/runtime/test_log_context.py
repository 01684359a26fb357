"""runtime.log_context and runtime.log_format without a broker: which context a record gets on
which thread, the text and JSON layouts, and the config store's cluster-scope logger records."""

from __future__ import annotations

import logging
import threading
from typing import Any

import orjson
import pytest
from kconnect.runtime import log_context
from kconnect.runtime.log_format import TEXT_FORMAT, JsonFormatter
from kconnect.runtime.plugin_calls import call_with_timeout
from kconnect.storage import config_records
from kconnect.storage.kafka_config_store import KafkaConfigBackingStore


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def captured() -> Any:
    log_context.install()
    handler = _Capture()
    logger = logging.getLogger("kconnect_test_log_context_plugin")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield logger, handler.records
    logger.removeHandler(handler)


def _contexts(records: list[logging.LogRecord]) -> dict[str, str]:
    return {r.getMessage(): r.connector_context for r in records}  # type: ignore[attr-defined]


def test_records_carry_the_context_of_the_thread_that_logged_them(captured) -> None:
    logger, records = captured
    logger.info("outside")

    def task_thread(n: int) -> None:
        log_context.set_current(log_context.task_prefix("orders", n))
        logger.info(f"task {n}")

    threads = [threading.Thread(target=task_thread, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with log_context.for_connector("orders"):
        logger.info("connector")
    logger.info("after")
    assert _contexts(records) == {
        "outside": "",
        "task 0": "[orders|task-0] ",
        "task 1": "[orders|task-1] ",
        "connector": "[orders|worker] ",
        "after": "",
    }


def test_threads_a_plugin_starts_and_plugin_calls_inherit_the_context(captured) -> None:
    logger, records = captured
    with log_context.for_task("inventory", 3):
        own = threading.Thread(target=lambda: logger.info("plugin's own thread"))
        own.start()
        own.join()
        call_with_timeout("stop()", 5, lambda: logger.info("plugin call"))
    unrelated = threading.Thread(target=lambda: logger.info("unrelated thread"))
    unrelated.start()
    unrelated.join()
    assert _contexts(records) == {
        "plugin's own thread": "[inventory|task-3] ",
        "plugin call": "[inventory|task-3] ",
        "unrelated thread": "",
    }


def test_text_layout_puts_the_context_before_the_message(captured) -> None:
    logger, records = captured
    with log_context.for_task("my-connector", 0):
        logger.warning("Committing offsets")
    line = logging.Formatter(TEXT_FORMAT).format(records[-1])
    assert line.endswith(
        "WARNING [my-connector|task-0] Committing offsets (kconnect_test_log_context_plugin)"
    )


def test_json_layout_names_connector_task_and_exception(captured) -> None:
    logger, records = captured
    with log_context.for_connector("a|b"):
        try:
            raise ValueError("boom")
        except ValueError:
            logger.exception("failed")
    logger.info("plain")
    failed, plain = (orjson.loads(JsonFormatter().format(r)) for r in records[-2:])
    assert failed["connector"] == "a|b" and failed["task"] == "worker"
    assert failed["level"] == "ERROR" and failed["message"] == "failed"
    assert "ValueError: boom" in failed["exception"]
    assert failed["logger"] == "kconnect_test_log_context_plugin"
    assert "connector" not in plain and "task" not in plain
    assert plain["timestamp"].endswith("+00:00")


class _Message:
    def __init__(self, key: str, value: bytes | None, offset: int) -> None:
        self._key, self._value, self._offset = key, value, offset

    def key(self) -> bytes:
        return self._key.encode()

    def value(self) -> bytes | None:
        return self._value

    def offset(self) -> int:
        return self._offset


class _Listener:
    def __init__(self) -> None:
        self.levels: list[tuple[str, str]] = []

    def on_logging_level_update(self, namespace: str, level: str) -> None:
        self.levels.append((namespace, level))


class _Log:
    def __init__(self) -> None:
        self.sent: list[Any] = []
        self.read_to_end_calls = 0

    def send_and_wait(self, writes: Any, timeout_s: float) -> None:
        self.sent.extend(writes)

    def read_to_end(self, timeout_s: float) -> None:
        self.read_to_end_calls += 1


def test_config_store_writes_cluster_levels_without_privileges_and_applies_only_new_ones() -> None:
    store = KafkaConfigBackingStore()
    fake_log = _Log()
    store._log = fake_log  # type: ignore[assignment]
    # Any worker may write it (no claim_write_privileges()), and nothing waits to read it back.
    store.put_logger_level("org.example", "DEBUG")
    assert fake_log.sent == [("logger-cluster-org.example", b'{"level":"DEBUG"}')]
    assert fake_log.read_to_end_calls == 0
    listener = _Listener()
    store.set_update_listener(listener)  # type: ignore[arg-type]
    value = config_records.serialize_config_record(config_records.LoggerLevelRecord("old", "WARN"))
    store._on_record(_Message("logger-cluster-old", value, 0))  # read while starting
    store._started = True
    store._on_record(_Message("logger-cluster-org.example", b'{"level":"DEBUG"}', 1))
    assert listener.levels == [("org.example", "DEBUG")]
