"""Command lines: ``connect-standalone``, ``connect-distributed`` and ``kconnect <subcommand>``.

connect-standalone worker.properties [connector1.properties connector2.json ...]
kconnect standalone worker.properties connector1.properties
connect-distributed worker.properties
kconnect distributed worker.properties
kconnect quickstart
kconnect plugins
kconnect new-plugin [--no-input] [-o DIR] [key=value ...]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from kconnect import __version__

log = logging.getLogger("kconnect.cli")

#: exit codes, as Kafka's ConnectStandalone uses them
EXIT_USAGE = 1
EXIT_STARTUP_FAILED = 1
EXIT_CONNECTOR_ERROR = 3


def configure_logging(level: str | None = None) -> None:
    """Log to stderr in Kafka Connect's layout: ``[time] LEVEL [connector|task-0] message
    (logger)``, or as JSON lines with ``KCONNECT_LOG_FORMAT=json``."""
    from kconnect.runtime import log_context
    from kconnect.runtime.log_format import worker_formatter

    level_name = (level or os.environ.get("KCONNECT_LOG_LEVEL") or "INFO").upper()
    # Every line logged for a connector or task carries "[name|task-0] " (runtime.log_context);
    # KCONNECT_LOG_FORMAT=json writes JSON lines instead (runtime.log_format).
    log_context.install()
    root = logging.getLogger()
    ours = not root.handlers  # basicConfig leaves handlers someone else set up alone
    logging.basicConfig(level=getattr(logging, level_name, logging.INFO), stream=sys.stderr)
    for handler in root.handlers if ours else ():
        handler.setFormatter(worker_formatter())
        handler.addFilter(log_context.ContextDefaultFilter())
    # librdkafka's Python wrapper and kafka-python are chatty at INFO.
    logging.getLogger("kafka").setLevel(logging.WARNING)
    # Secrets an error message repeats are masked in every line (runtime.secret_masking).
    from kconnect.runtime.secret_masking import install_log_masking

    install_log_masking()


def read_connector_file(path: str) -> dict[str, str]:
    """A connector config from a ``.properties`` file or, as Kafka 3.8+ accepts, a JSON file
    holding either the config or ``{"name": …, "config": {…}}``."""
    from kconnect.api.errors import ConfigException
    from kconnect.properties import read_properties

    if path.endswith(".json"):
        from kconnect.runtime.config_json import config_strings, loads_keeping_numbers

        try:
            with open(path, "rb") as f:
                # Numbers keep their text, as through REST (kconnect.runtime.config_json).
                data = loads_keeping_numbers(f.read())
        except FileNotFoundError:
            raise ConfigException(f"Connector config file {path} does not exist") from None
        except ValueError as error:
            raise ConfigException(
                f"Connector config file {path} is not valid JSON: {error}"
            ) from error
        if isinstance(data, dict) and isinstance(data.get("config"), dict):
            config = dict(data["config"])
            if "name" in data:
                config.setdefault("name", data["name"])
            data = config
        if not isinstance(data, dict):
            raise ConfigException(f"Connector config file {path} must hold a JSON object")
        try:
            strings = config_strings(data)
        except TypeError as error:
            raise ConfigException(f"Connector config file {path}: {error}") from None
        return {k: v for k, v in strings.items() if v is not None}
    props = read_properties(path)
    if not props:
        raise ConfigException(f"Connector config file {path} holds no properties")
    return props


def standalone_main(argv: Sequence[str] | None = None) -> int:
    """``connect-standalone worker.properties [connector.properties ...]``"""
    parser = argparse.ArgumentParser(
        prog="connect-standalone",
        description="Run a standalone Kafka Connect worker (kconnect).",
    )
    parser.add_argument("worker_properties", help="the worker's .properties file")
    parser.add_argument("connector_configs", nargs="*", help="connector .properties or .json files")
    parser.add_argument("--log-level", default=None, help="DEBUG, INFO (default), WARNING, ERROR")
    parser.add_argument("--version", action="version", version=f"kconnect {__version__}")
    args = parser.parse_args(argv)
    configure_logging(args.log_level)
    from kconnect.cli.standalone import run_standalone

    return run_standalone(args.worker_properties, args.connector_configs)


def distributed_main(argv: Sequence[str] | None = None) -> int:
    """``connect-distributed worker.properties``"""
    parser = argparse.ArgumentParser(
        prog="connect-distributed", description="Run a distributed Kafka Connect worker (kconnect)."
    )
    parser.add_argument("worker_properties", help="the worker's .properties file")
    parser.add_argument("--log-level", default=None, help="DEBUG, INFO (default), WARNING, ERROR")
    parser.add_argument("--version", action="version", version=f"kconnect {__version__}")
    args = parser.parse_args(argv)
    configure_logging(args.log_level)
    from kconnect.cli.distributed import run_distributed

    return run_distributed(args.worker_properties)


def _plugins_main(args: argparse.Namespace) -> int:
    from kconnect.plugins import PLUGIN_GROUPS, registry

    reg = registry()
    for kind in PLUGIN_GROUPS:
        plugins = reg.plugins(kind)
        if not plugins:
            continue
        print(f"{kind}s:")
        for plugin in plugins:
            java = f"  ({', '.join(plugin.java_class_names)})" if plugin.java_class_names else ""
            print(f"  {plugin.entry_point:<28} {plugin.class_name}{java}")
    for broken in reg.broken:
        print(f"BROKEN {broken.kind} {broken.entry_point} ({broken.target}): {broken.error}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``kconnect <subcommand>``"""
    parser = argparse.ArgumentParser(
        prog="kconnect", description="Kafka Connect, written in Python."
    )
    parser.add_argument("--version", action="version", version=f"kconnect {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    standalone = sub.add_parser(
        "standalone", help="run a standalone worker (as connect-standalone)"
    )
    standalone.add_argument("worker_properties")
    standalone.add_argument("connector_configs", nargs="*")
    standalone.add_argument("--log-level", default=None)
    distributed = sub.add_parser(
        "distributed", help="run a distributed worker (as connect-distributed)"
    )
    distributed.add_argument("worker_properties")
    distributed.add_argument("--log-level", default=None)
    quickstart = sub.add_parser(
        "quickstart", help="start a throwaway Kafka and copy a file through a topic"
    )
    quickstart.add_argument(
        "--lines", type=int, default=1000, help="lines in the sample input file"
    )
    quickstart.add_argument(
        "--input", default=None, help="copy this file instead of a generated one"
    )
    quickstart.add_argument(
        "--exit-when-done",
        action="store_true",
        help="stop once every line arrived (for scripts) instead of waiting for Ctrl-C",
    )
    quickstart.add_argument(
        "--port", type=int, default=8083, help="REST port (default 8083; 0 picks a free one)"
    )
    quickstart.add_argument(
        "--avro",
        action="store_true",
        help="also start a schema registry and write Avro (AvroConverter) instead of JSON",
    )
    quickstart.add_argument("--log-level", default="WARNING")
    sub.add_parser("plugins", help="list the installed plugins and the broken ones")
    from kconnect.cli.new_plugin import add_arguments as add_new_plugin_arguments

    add_new_plugin_arguments(
        sub.add_parser("new-plugin", help="create a plugin package from the plugin template")
    )
    args = parser.parse_args(argv)
    if args.command == "standalone":
        configure_logging(args.log_level)
        from kconnect.cli.standalone import run_standalone

        return run_standalone(args.worker_properties, args.connector_configs)
    if args.command == "distributed":
        return distributed_main(
            [args.worker_properties] + (["--log-level", args.log_level] if args.log_level else [])
        )
    if args.command == "quickstart":
        configure_logging(args.log_level)
        from kconnect.cli.quickstart import run_quickstart

        return run_quickstart(
            lines=args.lines,
            input_file=args.input,
            exit_when_done=args.exit_when_done,
            port=args.port,
            avro=args.avro,
        )
    if args.command == "plugins":
        configure_logging("WARNING")
        return _plugins_main(args)
    if args.command == "new-plugin":
        from kconnect.cli.new_plugin import run_new_plugin

        return run_new_plugin(args)
    parser.error(f"unknown command {args.command}")
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
