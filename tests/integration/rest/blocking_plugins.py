"""Connectors whose methods block or raise, to show the REST API never hangs on them.
Named by Python path in ``connector.class`` (no entry point needed)."""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping

from kconnect.api.config import ConfigDef
from kconnect.api.connector import SourceConnector
from kconnect.api.task import SourceTask

_forever = threading.Event()


class IdleTask(SourceTask):
    def version(self) -> str:
        return "1"

    def start(self, props: Mapping[str, str]) -> None:
        pass

    def poll(self):
        time.sleep(0.2)

    def stop(self) -> None:
        pass


class BlockingStartConnector(SourceConnector):
    """start() never returns."""

    def version(self) -> str:
        return "1"

    def start(self, props: Mapping[str, str]) -> None:
        _forever.wait()

    def task_class(self) -> type[SourceTask]:
        return IdleTask

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [{}]

    def stop(self) -> None:
        pass

    def config(self) -> ConfigDef:
        return ConfigDef()


class BlockingValidateConnector(BlockingStartConnector):
    """validate() never returns."""

    def start(self, props: Mapping[str, str]) -> None:
        pass

    def validate(self, connector_configs):
        _forever.wait()


class RaisingTaskConfigsConnector(BlockingStartConnector):
    """task_configs() raises: the connector is FAILED, the API goes on."""

    def start(self, props: Mapping[str, str]) -> None:
        pass

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        raise RuntimeError("task_configs exploded")
