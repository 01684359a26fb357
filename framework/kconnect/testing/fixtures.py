"""Pytest fixtures for a real Kafka cluster, for kconnect's own tests and for plugin authors.

Use them from a ``conftest.py``::

    from kconnect.testing.fixtures import bootstrap_servers, kafka_cluster, unique_topic  # noqa: F401

``kafka_cluster`` starts one broker the first time a test asks for it and stops it when the
session ends; tests that never ask for it never start Java. ``postgres_server`` does the same
for a throwaway PostgreSQL server.
"""

from __future__ import annotations

import contextlib
import re
import signal
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kconnect.testing.kafka_cluster import KafkaCluster
from kconnect.testing.postgres import PostgresServer
from kconnect.testing.schema_registry import SchemaRegistry, registry_app_dir, registry_is_built

#: session resources by name, with how many session fixtures hold each (see _shared)
_SHARED: dict[str, list[Any]] = {}


@contextlib.contextmanager
def _shared(name: str, factory: Callable[[], Any]) -> Iterator[Any]:
    """One started resource per test run, however many conftests import the fixture: kconnect's
    ``tests/`` and a plugin's ``tests/`` collected in one run each register their own copy of
    a session fixture, and each copy would otherwise start its own broker or server."""
    entry = _SHARED.get(name)
    if entry is None:
        resource = factory()
        resource.start()
        entry = _SHARED[name] = [resource, 0]
    entry[1] += 1
    try:
        yield entry[0]
    finally:
        entry[1] -= 1
        if entry[1] == 0:
            del _SHARED[name]
            entry[0].stop()


@pytest.fixture(scope="session")
def kafka_cluster() -> Iterator[KafkaCluster]:
    """A one-broker Kafka cluster shared by the whole test session."""
    with _shared("kafka_cluster", lambda: KafkaCluster(brokers=1)) as cluster:
        yield cluster


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL server on 127.0.0.1 shared by the session, started on first use
    (as the unprivileged user ``kconnect-pg`` when the tests run as root) and removed at the
    end. ``postgres_server.create_database(name)`` gives a test a database of its own."""
    with _shared("postgres_server", PostgresServer) as server:
        yield server


@pytest.fixture(scope="session")
def schema_registry() -> Iterator[SchemaRegistry]:
    """A schema registry with Confluent's API (Apicurio Registry), shared by the session.

    Built once into the cache on first use; ``schema_registry.url`` is the value for
    ``schema.registry.url``. Tests that stop or kill it must start it again before returning.
    """
    if not registry_is_built():
        # The one-time Maven build (about 1.5 min on a fresh cache) is not the test's time.
        with _test_timeout_paused():
            registry_app_dir()
    with SchemaRegistry() as registry:
        yield registry


@contextlib.contextmanager
def _test_timeout_paused() -> Iterator[None]:
    """pytest-timeout's timer (SIGALRM, its default method) stopped for the block, then
    re-armed with the time the test had left."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    remaining, interval = signal.getitimer(signal.ITIMER_REAL)
    if remaining:
        signal.setitimer(signal.ITIMER_REAL, 0)
    try:
        yield
    finally:
        if remaining:
            signal.setitimer(signal.ITIMER_REAL, remaining, interval)


@pytest.fixture(scope="session")
def bootstrap_servers(kafka_cluster: KafkaCluster) -> str:
    """``bootstrap.servers`` of the session's Kafka cluster."""
    return kafka_cluster.bootstrap_servers


@pytest.fixture
def unique_topic(request: pytest.FixtureRequest) -> str:
    """A topic name no other test uses; the topic itself is not created.

    Producers create it on first write (``auto.create.topics.enable=true``); call
    ``kafka_cluster.create_topic(unique_topic, partitions=…)`` for other partition counts.
    """
    # Topic names allow [a-zA-Z0-9._-] and at most 249 characters.
    base = re.sub(r"[^a-zA-Z0-9._-]+", "-", request.node.name).strip("-")[:80]
    return f"test-{base}-{uuid.uuid4().hex[:8]}"
