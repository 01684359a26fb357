"""kconnect.api is what plugin authors import: it must not drag in the runtime or librdkafka."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_api_imports_neither_the_runtime_nor_confluent_kafka():
    code = (
        "import sys, kconnect.api\n"
        "bad = sorted(m for m in sys.modules if m.startswith(('kconnect.runtime', 'confluent_kafka', "
        "'kconnect.rest', 'falcon', 'gunicorn')))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_the_api_exports_the_plugin_interfaces():
    import kconnect.api as api

    for name in (
        "SourceConnector",
        "SinkConnector",
        "SourceTask",
        "SinkTask",
        "SourceRecord",
        "SinkRecord",
        "Schema",
        "SchemaBuilder",
        "Struct",
        "ConfigDef",
        "Converter",
        "HeaderConverter",
        "Transformation",
        "Predicate",
        "ConfigProvider",
        "Decimal",
        "Date",
        "Time",
        "Timestamp",
    ):
        assert hasattr(api, name), name
