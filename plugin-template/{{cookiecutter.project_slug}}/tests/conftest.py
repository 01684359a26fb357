"""kconnect's pytest plugin: the Kafka fixtures the connector test kit's round trips use (a
local broker starts the first time a test needs one)."""

pytest_plugins = ["kconnect.testing.kit.pytest_plugin"]
