"""Every transform and predicate named by the entry points exists, and carries Kafka's class
name, a version and its ConfigDef."""

from __future__ import annotations

import importlib
import tomllib
from pathlib import Path

import pytest
from kconnect.api import ConfigDef, Predicate, Transformation

PYPROJECT = Path(__file__).resolve().parents[3] / "pyproject.toml"
ENTRY_POINTS = tomllib.loads(PYPROJECT.read_text())["project"]["entry-points"]


def load(target: str):
    module_name, _, attribute = target.partition(":")
    obj = importlib.import_module(module_name)
    for part in attribute.split("."):
        obj = getattr(obj, part)
    return obj


@pytest.mark.parametrize(("name", "target"), sorted(ENTRY_POINTS["kconnect.transforms"].items()))
def test_transform_entry_points(name, target):
    cls = load(target)
    assert issubclass(cls, Transformation)
    assert cls.java_class_names == (f"org.apache.kafka.connect.transforms.{name}",)
    instance = cls()
    assert isinstance(instance.version(), str) and instance.version()
    assert isinstance(instance.config(), ConfigDef)


@pytest.mark.parametrize(("name", "target"), sorted(ENTRY_POINTS["kconnect.predicates"].items()))
def test_predicate_entry_points(name, target):
    cls = load(target)
    assert issubclass(cls, Predicate)
    assert cls.java_class_names == (f"org.apache.kafka.connect.transforms.predicates.{name}",)
    assert isinstance(cls().config(), ConfigDef)


def test_key_and_value_variants_are_named_like_kafka():
    from kconnect_builtins.transforms.cast import Cast

    assert Cast.Key.__qualname__ == "Cast.Key" and Cast.Value.__name__ == "Value"
    assert issubclass(Cast.Key, Cast)
