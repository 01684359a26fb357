"""kconnect's pytest plugin for a plugin project's tests: the Kafka fixtures (``kafka_cluster``,
``bootstrap_servers``, ``unique_topic``) the kit's round trips use, and the kit's version in the
report header. A project loads it from its top-level ``conftest.py``::

    pytest_plugins = ["kconnect.testing.kit.pytest_plugin"]

It is not a ``pytest11`` entry point on purpose: pytest would then load it (and rewrite the
asserts of every kconnect module) in every test run of every environment kconnect is installed
in. It only defines fixtures; nothing starts until a test asks for a broker. A ``conftest.py``
fixture of the same name wins (pytest's rule), so a project can point the kit at a broker of
its own by defining ``bootstrap_servers``.
"""

from __future__ import annotations

import pytest

from kconnect.testing.fixtures import bootstrap_servers, kafka_cluster, unique_topic
from kconnect.testing.kit.catalogue import KIT_VERSION

__all__ = ["bootstrap_servers", "kafka_cluster", "unique_topic"]


def pytest_report_header(config: pytest.Config) -> str:
    return f"kconnect connector test kit: version {KIT_VERSION}"
