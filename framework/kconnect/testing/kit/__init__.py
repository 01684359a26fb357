"""The connector test kit: a versioned set of checks a plugin author runs against their own
connector or transform with a few lines of set-up::

    from kconnect.testing.kit import SourceConnectorChecks

    class TestMySource(SourceConnectorChecks):
        connector_class = MySourceConnector

        def connector_config(self, workdir, topic):
            return {"directory": str(workdir), "topic": topic}

        def produce(self, config, count):   # make the external system hold new data
            ...
            return expected_values

Each check is a test of its own (``test_<check>``); a class skips one with
``skip_checks = {"check_name": "reason"}``. Failures name the check and say what to fix. The
round-trip checks need the ``bootstrap_servers`` fixture, which the kit's pytest plugin provides
from a throwaway local broker: put ``pytest_plugins = ["kconnect.testing.kit.pytest_plugin"]``
in the project's top-level ``conftest.py``.

Importing this package does not import the runtime or confluent-kafka; the checks do, when
they run.
"""

from kconnect.testing.kit.base import ConnectorChecks, PluginChecks
from kconnect.testing.kit.catalogue import CHECKS, KIT_VERSION, Check, checks_for
from kconnect.testing.kit.sink import SinkConnectorChecks
from kconnect.testing.kit.source import SourceConnectorChecks
from kconnect.testing.kit.transform import TransformChecks

__all__ = [
    "CHECKS",
    "KIT_VERSION",
    "Check",
    "ConnectorChecks",
    "PluginChecks",
    "SinkConnectorChecks",
    "SourceConnectorChecks",
    "TransformChecks",
    "checks_for",
]
