"""``kconnect new-plugin``: a new plugin package from ``plugin-template/`` (cookiecutter).

    kconnect new-plugin                                  # asks for kind, names, author
    kconnect new-plugin --no-input plugin_kind=sink plugin_name="Acme Files" -o ~/src

The template is the repository's ``plugin-template/`` next to the installed package (a source
checkout or an editable install), or whatever ``--template`` (or ``$KCONNECT_PLUGIN_TEMPLATE``)
names: a directory, a git URL or a zip, as cookiecutter accepts them. cookiecutter is imported
only here, so workers never need it (``pip install 'kconnect[template]'``).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

TEMPLATE_ENV = "KCONNECT_PLUGIN_TEMPLATE"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "overrides",
        nargs="*",
        metavar="key=value",
        help="template values, e.g. plugin_kind=sink plugin_name='Acme Files' author='A. N.'",
    )
    parser.add_argument(
        "--no-input", action="store_true", help="ask nothing: the defaults and key=value only"
    )
    parser.add_argument(
        "-o", "--output-dir", default=".", help="where the project directory is created"
    )
    parser.add_argument(
        "--template",
        default=None,
        help=f"template to use (default: ${TEMPLATE_ENV}, else "
        "the plugin-template/ of this kconnect checkout)",
    )
    parser.add_argument(
        "-f", "--overwrite", action="store_true", help="write into an existing project directory"
    )


def default_template() -> Path | None:
    import kconnect

    # framework/kconnect/__init__.py -> the repository root holds plugin-template/
    candidate = Path(kconnect.__file__).resolve().parents[2] / "plugin-template"
    return candidate if (candidate / "cookiecutter.json").is_file() else None


def parse_overrides(items: Sequence[str]) -> dict[str, str]:
    """``key=value`` pairs; ValueError naming the item that has no ``=``."""
    context = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"expected key=value, got {item!r}")
        context[key.strip()] = value
    return context


def run_new_plugin(args: argparse.Namespace) -> int:
    try:
        overrides = parse_overrides(args.overrides)
    except ValueError as error:
        print(f"kconnect new-plugin: {error}", file=sys.stderr)
        return 2
    template = args.template or os.environ.get(TEMPLATE_ENV) or default_template()
    if template is None:
        print(
            "kconnect new-plugin: no plugin-template/ next to this kconnect installation; "
            f"name one with --template or ${TEMPLATE_ENV} (a directory or git URL)",
            file=sys.stderr,
        )
        return 2
    try:
        from cookiecutter.exceptions import CookiecutterException  # type: ignore[import-untyped]
        from cookiecutter.main import cookiecutter  # type: ignore[import-untyped]
    except ImportError:
        print(
            "kconnect new-plugin needs cookiecutter: pip install 'kconnect[template]'",
            file=sys.stderr,
        )
        return 2
    try:
        project = cookiecutter(
            str(template),
            no_input=args.no_input,
            extra_context=overrides,
            output_dir=args.output_dir,
            overwrite_if_exists=args.overwrite,
        )
    except CookiecutterException as error:
        print(f"kconnect new-plugin: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    except Exception as error:  # noqa: BLE001 - cookiecutter reports hook failures this way too
        print(f"kconnect new-plugin: {error}", file=sys.stderr)
        return 1
    print(f"Created {project}")
    print(f"Next: cd {project} && pip install -e '.[test]' && pytest")
    return 0
