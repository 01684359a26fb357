"""ConfigDef, its validators, recommenders, JSON Schema and AbstractConfig (Kafka's behaviour)."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator
from kconnect.api.config import (
    NO_DEFAULT_VALUE,
    AbstractConfig,
    CaseInsensitiveValidString,
    CompositeValidator,
    Config,
    ConfigDef,
    ConfigValue,
    LambdaValidator,
    ListSize,
    NonEmptyString,
    NonEmptyStringWithoutControlChars,
    NonNullValidator,
    Password,
    Range,
    Recommender,
    Validator,
    ValidList,
    ValidString,
)
from kconnect.api.errors import ConfigException

T = ConfigDef.Type


def one(type_: Any, value: Any, **kwargs: Any) -> Any:
    return ConfigDef().define("k", type_, **kwargs).parse({"k": value})["k"]


def error_of(definition: ConfigDef, props: dict[str, Any]) -> str:
    with pytest.raises(ConfigException) as info:
        definition.parse(props)
    return str(info.value)


def errors(definition: ConfigDef, props: dict[str, Any]) -> dict[str, list[str]]:
    return {v.name: v.error_messages for v in definition.validate(props)}


# -- types ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("true", True), ("FALSE", False), (" True ", True), (True, True), (False, False)],
)
def test_boolean_parses_true_and_false_in_any_case(raw: Any, expected: bool) -> None:
    assert one(T.BOOLEAN, raw) is expected


@pytest.mark.parametrize("raw", ["yes", "1", 1])
def test_boolean_rejects_anything_else(raw: Any) -> None:
    with pytest.raises(ConfigException) as info:
        one(T.BOOLEAN, raw)
    assert str(info.value) == (
        f"Invalid value {raw} for configuration k: Expected value to be either true or false"
    )


def test_string_is_trimmed_and_must_be_a_string() -> None:
    assert one(T.STRING, "  hello world \t") == "hello world"
    with pytest.raises(ConfigException, match="Expected value to be a string, but it was a int"):
        one(T.STRING, 5)


@pytest.mark.parametrize(
    ("type_", "raw", "expected"),
    [
        (T.INT, "42", 42),
        (T.INT, " -7 ", -7),
        (T.INT, "+3", 3),
        (T.INT, 2**31 - 1, 2**31 - 1),
        (T.SHORT, "-32768", -32768),
        (T.LONG, "9223372036854775807", 2**63 - 1),
        (T.LONG, 12, 12),
    ],
)
def test_integers_parse_within_their_bit_width(type_: Any, raw: Any, expected: int) -> None:
    assert one(type_, raw) == expected


@pytest.mark.parametrize(
    ("type_", "raw"),
    [
        (T.INT, "4.2"),
        (T.INT, "abc"),
        (T.INT, ""),
        (T.INT, "1_000"),
        (T.INT, "2147483648"),
        (T.INT, 2**31),
        (T.SHORT, "32768"),
        (T.LONG, "9223372036854775808"),
        (T.DOUBLE, "x1"),
        (T.DOUBLE, "inf"),
    ],
)
def test_numbers_out_of_syntax_or_range_are_not_a_number(type_: Any, raw: Any) -> None:
    with pytest.raises(ConfigException) as info:
        one(type_, raw)
    assert (
        str(info.value)
        == f"Invalid value {raw} for configuration k: Not a number of type {type_.name}"
    )
    assert info.value.name == "k"


@pytest.mark.parametrize(
    ("type_", "raw", "words"),
    [
        (T.INT, True, "a 32-bit integer, but it was a bool"),
        (T.INT, 1.5, "a 32-bit integer, but it was a float"),
        (T.SHORT, [1], "a 16-bit integer (short), but it was a list"),
        (T.LONG, b"5", "a 64-bit integer (long), but it was a bytes"),
        (T.DOUBLE, False, "a double, but it was a bool"),
    ],
)
def test_numbers_of_the_wrong_python_type_say_what_they_were(
    type_: Any, raw: Any, words: str
) -> None:
    with pytest.raises(ConfigException) as info:
        one(type_, raw)
    assert str(info.value).endswith(f"Expected value to be {words}")


@pytest.mark.parametrize(
    ("raw", "expected"), [("1.5", 1.5), ("1e3", 1000.0), ("-2", -2.0), (3, 3.0), ("2.5d", 2.5)]
)
def test_double_parses_like_java(raw: Any, expected: float) -> None:
    value = one(T.DOUBLE, raw)
    assert value == expected and isinstance(value, float)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a, b ,c", ["a", "b", "c"]),
        ("", []),
        ("   ", []),
        ("single", ["single"]),
        ("a,,b,", ["a", "", "b", ""]),
        (["x", "y"], ["x", "y"]),
        (("x",), ["x"]),
    ],
)
def test_list_is_comma_separated_with_whitespace_trimmed(raw: Any, expected: list[str]) -> None:
    assert one(T.LIST, raw) == expected


def test_list_rejects_other_values() -> None:
    with pytest.raises(ConfigException) as info:
        one(T.LIST, 5)
    assert (
        str(info.value) == "Invalid value 5 for configuration k: Expected a comma separated list."
    )


def test_class_stays_a_name_and_is_never_imported() -> None:
    assert one(T.CLASS, " no.such.module.Klass ") == "no.such.module.Klass"
    assert one(T.CLASS, Password) == "kconnect.api.config.Password"
    with pytest.raises(ConfigException, match="Expected a Class instance or class name."):
        one(T.CLASS, 3)


def test_password_is_hidden_but_keeps_its_value() -> None:
    secret = one(T.PASSWORD, " s3cret ")
    assert isinstance(secret, Password)
    assert secret.value == "s3cret"
    assert str(secret) == repr(secret) == "[hidden]"
    assert f"{secret}" == "[hidden]"
    assert secret == Password("s3cret") and hash(secret) == hash(Password("s3cret"))
    assert one(T.PASSWORD, secret) is secret


def test_password_never_appears_in_error_messages() -> None:
    definition = ConfigDef().define("pw", T.PASSWORD, validator=NonEmptyString())
    assert errors(definition, {"pw": " "})["pw"] == [
        "Invalid value [hidden] for configuration pw: String must be non-empty"
    ]
    checked = ConfigDef().define("pw", T.PASSWORD, validator=ValidString.in_("ok"))
    message = errors(checked, {"pw": "topsecret"})["pw"][0]
    assert "topsecret" not in message and "[hidden]" in message


def test_null_value_stays_null() -> None:
    assert one(T.INT, None) is None


def test_types_may_be_named_by_string() -> None:
    definition = ConfigDef().define("k", "int", 3, importance="high", width="short")
    key = definition.config_keys["k"]
    assert key.type is T.INT and key.importance is ConfigDef.Importance.HIGH
    assert key.width is ConfigDef.Width.SHORT
    assert [t.name for t in ConfigDef.Type] == [
        "BOOLEAN", "STRING", "INT", "SHORT", "LONG", "DOUBLE", "LIST", "CLASS", "PASSWORD",
    ]  # fmt: skip


def test_parse_type_is_public_and_range_checks() -> None:
    assert ConfigDef.parse_type("n", "12", T.SHORT) == 12
    with pytest.raises(ConfigException) as info:
        ConfigDef.parse_type("n", "70000", T.SHORT)
    assert str(info.value) == "Invalid value 70000 for configuration n: Not a number of type SHORT"


@pytest.mark.parametrize(
    ("value", "type_", "expected"),
    [
        (None, T.STRING, None),
        (True, T.BOOLEAN, "true"),
        (5, T.INT, "5"),
        (1.5, T.DOUBLE, "1.5"),
        (["a", "b"], T.LIST, "a,b"),
        ("x.Y", T.CLASS, "x.Y"),
        (Password("p"), T.PASSWORD, "[hidden]"),
    ],
)
def test_convert_to_string(value: Any, type_: Any, expected: str | None) -> None:
    assert ConfigDef.convert_to_string(value, type_) == expected


def test_convert_to_string_map_with_password_values_reveals_secrets() -> None:
    converted = ConfigDef.convert_to_string_map_with_password_values(
        {"p": Password("s"), "l": ["a", "b"], "n": None, "b": False}
    )
    assert converted == {"p": "s", "l": "a,b", "b": "false"}


# -- defaults, required, order ----------------------------------------------------------------


def test_defaults_are_parsed_to_the_type_and_used_when_unset() -> None:
    definition = (
        ConfigDef()
        .define("n", T.INT, "5")
        .define("l", T.LIST, "a, b")
        .define("p", T.PASSWORD, "x")
        .define("none", T.STRING, None)
    )
    assert definition.config_keys["n"].default_value == 5
    assert definition.parse({}) == {"n": 5, "l": ["a", "b"], "p": Password("x"), "none": None}
    assert definition.parse({"n": "6"})["n"] == 6
    assert definition.default_values() == {
        "n": 5,
        "l": ["a", "b"],
        "p": Password("x"),
        "none": None,
    }


def test_parsed_list_defaults_are_copies() -> None:
    definition = ConfigDef().define("l", T.LIST, "a")
    definition.parse({})["l"].append("b")
    assert definition.parse({})["l"] == ["a"]


def test_invalid_default_fails_at_define() -> None:
    with pytest.raises(ConfigException, match="Not a number of type INT"):
        ConfigDef().define("n", T.INT, "five")
    with pytest.raises(ConfigException) as info:
        ConfigDef().define("n", T.INT, 0, Range.at_least(1))
    assert str(info.value) == "Invalid value 0 for configuration n: Value must be at least 1"


def test_missing_required_configuration() -> None:
    definition = ConfigDef().define("file", T.STRING, importance=ConfigDef.Importance.HIGH)
    assert not definition.config_keys["file"].has_default()
    assert definition.config_keys["file"].default_value is NO_DEFAULT_VALUE
    assert ConfigDef.NO_DEFAULT_VALUE is NO_DEFAULT_VALUE
    expected = 'Missing required configuration "file" which has no default value.'
    assert error_of(definition, {}) == expected
    assert errors(definition, {}) == {"file": [expected]}
    assert definition.parse({"file": "x"}) == {"file": "x"}


def test_explicit_null_for_a_required_key_is_not_missing() -> None:
    definition = ConfigDef().define("file", T.STRING)
    assert definition.parse({"file": None}) == {"file": None}


def test_undefined_keys_are_ignored_by_parse() -> None:
    definition = ConfigDef().define("a", T.INT, 1)
    assert definition.parse({"a": "2", "other": "x"}) == {"a": 2}


def test_parse_raises_the_first_bad_key_in_definition_order() -> None:
    definition = ConfigDef().define("z", T.INT, 1).define("a", T.INT, 1).define("m", T.STRING)
    assert error_of(definition, {"a": "x", "z": "y"}).startswith(
        "Invalid value y for configuration z"
    )
    assert (
        error_of(definition, {}) == 'Missing required configuration "m" which has no default value.'
    )


def test_keys_keep_definition_order() -> None:
    definition = ConfigDef()
    for name in ["zeta", "alpha", "mid", "beta"]:
        definition.define(name, T.STRING, "", group=name[0].upper() if name != "beta" else "Z")
    assert list(definition.config_keys) == ["zeta", "alpha", "mid", "beta"]
    assert [v.name for v in definition.validate({})] == ["zeta", "alpha", "mid", "beta"]
    assert list(definition.parse({})) == ["zeta", "alpha", "mid", "beta"]
    assert definition.groups == ["Z", "A", "M"]
    assert definition.names() == {"zeta", "alpha", "mid", "beta"}


def test_duplicate_define_is_an_error() -> None:
    definition = ConfigDef().define("a", T.INT, 1)
    with pytest.raises(ConfigException) as info:
        definition.define("a", T.STRING, "x")
    assert str(info.value) == "Configuration a is defined twice."


def test_define_chains_and_display_name_defaults_to_name() -> None:
    definition = ConfigDef()
    assert definition.define("a", T.INT, 1) is definition
    assert definition.config_keys["a"].display_name == "a"


def test_copy_constructor_leaves_the_base_alone() -> None:
    base = ConfigDef().define("a", T.INT, 1)
    extended = ConfigDef(base).define("b", T.INT, 2)
    assert base.names() == {"a"} and extended.names() == {"a", "b"}


# -- validators -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("validator", "type_", "raw", "reason"),
    [
        (Range.at_least(1), T.INT, "0", "Value must be at least 1"),
        (Range.between(1, 10), T.INT, "11", "Value must be no more than 10"),
        (Range.between(0.5, 1.5), T.DOUBLE, "0.25", "Value must be at least 0.5"),
        (ValidString.in_("a", "b"), T.STRING, "c", "String must be one of: a, b"),
        (ValidString.in_(["a", "b"]), T.STRING, "A", "String must be one of: a, b"),
        (
            CaseInsensitiveValidString.in_("plain", "Gzip"),
            T.STRING,
            "zip",
            "String must be one of (case insensitive): PLAIN, GZIP",
        ),
        (NonEmptyString(), T.STRING, "  ", "String must be non-empty"),
        (NonEmptyStringWithoutControlChars(), T.STRING, "", "String may not be empty"),
        (ListSize.at_most_of_size(2), T.LIST, "a,b,c", "exceeds maximum list size of [2]."),
    ],
)
def test_validator_messages(validator: Validator, type_: Any, raw: str, reason: str) -> None:
    definition = ConfigDef().define("k", type_, validator=validator)
    shown = ConfigDef.parse_type("k", raw, type_)
    shown_text = "[" + ", ".join(shown) + "]" if isinstance(shown, list) else shown
    expected = f"Invalid value {shown_text} for configuration k: {reason}"
    assert error_of(definition, {"k": raw}) == expected
    assert errors(definition, {"k": raw}) == {"k": [expected]}
    with pytest.raises(ConfigException) as direct:
        validator.ensure_valid("k", shown)
    assert str(direct.value) == expected


@pytest.mark.parametrize(
    ("validator", "type_", "raw"),
    [
        (Range.between(1, 10), T.INT, "10"),
        (ValidString.in_("a", "b"), T.STRING, "b"),
        (CaseInsensitiveValidString.in_("plain", "gzip"), T.STRING, "GZip"),
        (CaseInsensitiveValidString.in_("is"), T.STRING, "\u0131s"),  # dotless i upper-cases to I
        (ValidList.in_("x", "y"), T.LIST, "y, x"),
        (NonEmptyString(), T.STRING, "a"),
        (NonEmptyStringWithoutControlChars(), T.STRING, "my-connector"),
        (ListSize.at_most_of_size(2), T.LIST, "a,b"),
        (NonNullValidator(), T.STRING, ""),
    ],
)
def test_validators_accept_valid_values(validator: Validator, type_: Any, raw: str) -> None:
    definition = ConfigDef().define("k", type_, validator=validator)
    assert errors(definition, {"k": raw}) == {"k": []}
    validator.ensure_valid("k", ConfigDef.parse_type("k", raw, type_))


def test_valid_list_reports_the_offending_item() -> None:
    definition = ConfigDef().define("k", T.LIST, validator=ValidList.in_("x", "y"))
    assert error_of(definition, {"k": "x, z, q"}) == (
        "Invalid value z for configuration k: String must be one of: x, y"
    )


def test_control_characters_are_listed_by_code() -> None:
    definition = ConfigDef().define("name", T.STRING, validator=NonEmptyStringWithoutControlChars())
    reason = "String may not contain control sequences but had the following ASCII chars: 9, 127"
    assert errors(definition, {"name": "a\tb\x7fc"})["name"] == [
        f"Invalid value a\tb\x7fc for configuration name: {reason}"
    ]


def test_non_null_validator() -> None:
    definition = ConfigDef().define("k", T.STRING, validator=NonNullValidator())
    assert errors(definition, {"k": None})["k"] == [
        "Invalid value null for configuration k: entry must be non null"
    ]
    with pytest.raises(ConfigException):
        ConfigDef().define("k", T.STRING, None, NonNullValidator())


def test_range_rejects_null() -> None:
    with pytest.raises(ConfigException) as info:
        Range.at_least(0).ensure_valid("k", None)
    assert str(info.value) == "Invalid value null for configuration k: Value must be non-null"


def test_composite_validator_stops_at_the_first_failure() -> None:
    seen: list[Any] = []

    def record(name: str, value: Any) -> None:
        seen.append(value)

    validator = CompositeValidator.of(
        NonEmptyString(), LambdaValidator.with_(record, "recorded"), ValidString.in_("a")
    )
    definition = ConfigDef().define("k", T.STRING, validator=validator)
    assert errors(definition, {"k": ""})["k"] == [
        "Invalid value  for configuration k: String must be non-empty"
    ]
    assert seen == []
    assert errors(definition, {"k": "b"})["k"] == [
        "Invalid value b for configuration k: String must be one of: a"
    ]
    assert seen == ["b"]
    assert str(validator) == "non-empty string, recorded, [a]"


def test_lambda_validator_runs_in_python_with_its_own_message() -> None:
    def even(name: str, value: Any) -> None:
        if value % 2:
            raise ConfigException(f"Invalid value {value} for configuration {name}: odd", name=name)

    validator = LambdaValidator.with_(even, lambda: "even numbers")
    definition = ConfigDef().define("n", T.INT, 2, validator)
    assert error_of(definition, {"n": "3"}) == "Invalid value 3 for configuration n: odd"
    assert str(validator) == "even numbers"


def test_built_in_validators_are_checked_by_jsonschema(monkeypatch: pytest.MonkeyPatch) -> None:
    definition = ConfigDef().define("n", T.INT, 5, Range.between(1, 10))

    def not_called(self: Range, name: str, value: Any) -> None:
        raise AssertionError("a non-null value must be checked by the JSON Schema")

    monkeypatch.setattr(Range, "ensure_valid", not_called)
    assert errors(definition, {"n": "11"})["n"] == [
        "Invalid value 11 for configuration n: Value must be no more than 10"
    ]
    assert definition.parse({"n": "7"}) == {"n": 7}


def test_custom_validator_subclass_is_never_bypassed_by_the_schema() -> None:
    class StrictRange(Range):
        def ensure_valid(self, name: str, value: Any) -> None:
            if value == 5:
                raise ConfigException(f"Invalid value 5 for configuration {name}: not five")
            super().ensure_valid(name, value)

    definition = ConfigDef().define("n", T.INT, 1, StrictRange.between(0, 10))
    assert errors(definition, {"n": "5"})["n"] == ["Invalid value 5 for configuration n: not five"]
    assert errors(definition, {"n": "11"})["n"] == [
        "Invalid value 11 for configuration n: Value must be no more than 10"
    ]
    assert "allOf" not in definition.to_json_schema()["properties"]["n"]


def test_validator_strings_for_docs() -> None:
    assert str(Range.at_least(1)) == "[1,...]"
    assert str(Range.between(1, 5)) == "[1,...,5]"
    assert str(Range(None, 5)) == "[...,5]"
    assert str(ValidString.in_("a", "b")) == "[a, b]"
    assert str(ValidList.in_("a", "b")) == "[a, b]"
    assert str(CaseInsensitiveValidString.in_("a", "b")) == "(case insensitive) [A, B]"
    assert str(NonEmptyString()) == "non-empty string"
    assert str(NonNullValidator()) == "non-null string"
    assert str(NonEmptyStringWithoutControlChars()) == (
        "non-empty string without ISO control characters"
    )
    assert ConfigDef.Range is Range and ConfigDef.ValidString is ValidString


# -- validate ---------------------------------------------------------------------------------


def test_validate_collects_every_error_and_never_raises() -> None:
    definition = (
        ConfigDef()
        .define("file", T.STRING)
        .define("tasks", T.INT, 1, Range.at_least(1))
        .define("flag", T.BOOLEAN, False)
        .define("ok", T.STRING, "fine")
    )
    result = definition.validate({"tasks": "zero", "flag": "maybe"})
    assert all(isinstance(v, ConfigValue) for v in result)
    by_name = {v.name: v for v in result}
    assert by_name["file"].error_messages == [
        'Missing required configuration "file" which has no default value.'
    ]
    # Kafka runs the validator on the null left by a failed parse, and reports both.
    assert by_name["tasks"].error_messages == [
        "Invalid value zero for configuration tasks: Not a number of type INT",
        "Invalid value null for configuration tasks: Value must be non-null",
    ]
    assert by_name["tasks"].value is None
    assert by_name["flag"].error_messages == [
        "Invalid value maybe for configuration flag: Expected value to be either true or false"
    ]
    assert by_name["ok"].value == "fine" and by_name["ok"].error_messages == []
    assert all(v.visible for v in result)


def test_validate_returns_typed_values() -> None:
    definition = ConfigDef().define("n", T.LONG, 1).define("l", T.LIST, "")
    values = definition.validate_all({"n": "7", "l": "a,b"})
    assert values["n"].value == 7 and values["l"].value == ["a", "b"]


def test_config_wraps_config_values() -> None:
    values = ConfigDef().define("a", T.INT, 1).validate({})
    config = Config(values)
    assert config.config_values == values
    assert repr(values[0]) == "[a,1,[],[],true]"
    value = ConfigValue("x")
    value.add_error_message("bad")
    assert value.error_messages == ["bad"] and value.visible and value.recommended_values == []


def test_validate_handles_many_keys() -> None:
    definition = ConfigDef()
    for i in range(150):
        definition.define(f"k{i}", T.INT, 0, Range.between(0, 10))
    result = definition.validate({f"k{i}": str(i) for i in range(150)})
    assert sum(1 for v in result if v.error_messages) == 150 - 11


# -- recommenders and dependents --------------------------------------------------------------


class ModeRecommender(Recommender):
    """Recommends formats depending on the chosen mode; hidden unless mode is 'file'."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def valid_values(self, name: str, parsed_config: Any) -> list[Any]:
        self.calls.append((name, dict(parsed_config)))
        return ["json", "csv"] if parsed_config.get("mode") == "file" else ["avro"]

    def visible(self, name: str, parsed_config: Any) -> bool:
        return parsed_config.get("mode") == "file"


def recommended_def(recommender: Recommender) -> ConfigDef:
    return (
        ConfigDef()
        .define("mode", T.STRING, "file", dependents=["format"])
        .define("format", T.STRING, "json", recommender=recommender)
    )


def test_recommender_fills_recommended_values_and_visibility() -> None:
    recommender = ModeRecommender()
    definition = recommended_def(recommender)
    values = definition.validate_all({"mode": "file"})
    assert values["format"].recommended_values == ["json", "csv"]
    assert values["format"].visible is True
    assert recommender.calls == [("format", {"mode": "file", "format": "json"})]

    values = definition.validate_all({"mode": "kafka"})
    assert values["format"].recommended_values == ["avro"]
    assert values["format"].visible is False
    assert values["mode"].recommended_values == [] and values["mode"].visible


def test_recommender_errors_become_messages() -> None:
    class Failing(Recommender):
        def valid_values(self, name: str, parsed_config: Any) -> list[Any]:
            raise ConfigException("cannot reach the database")

    values = recommended_def(Failing()).validate_all({})
    assert values["format"].error_messages == ["cannot reach the database"]


def test_recommendations_from_two_parents_are_intersected() -> None:
    class Fixed(Recommender):
        def __init__(self) -> None:
            self.answers = [["a", "b", "c"], ["b", "c", "d"]]

        def valid_values(self, name: str, parsed_config: Any) -> list[Any]:
            return self.answers.pop(0)

    definition = (
        ConfigDef()
        .define("p1", T.STRING, "", dependents=["child"])
        .define("p2", T.STRING, "", dependents=["child"])
        .define("child", T.STRING, "", recommender=Fixed())
    )
    assert definition.validate_all({})["child"].recommended_values == ["b", "c"]


def test_undefined_dependents() -> None:
    definition = ConfigDef().define("a", T.INT, 1, dependents=["ghost"])
    values = definition.validate_all({})
    assert values["ghost"].error_messages == [
        "ghost is referred in the dependents, but not defined."
    ]
    assert values["ghost"].visible is False
    assert error_of(definition, {}) == (
        "Some configurations in are referred in the dependents, but not defined: ghost"
    )


# -- embed ------------------------------------------------------------------------------------


def test_embed_prefixes_keys_groups_and_dependents() -> None:
    recommender = ModeRecommender()
    child = (
        ConfigDef()
        .define("mode", T.STRING, "file", ValidString.in_("file", "kafka"), dependents=["format"])
        .define("format", T.STRING, "json", recommender=recommender, group="Formats")
        .define("size", T.INT, validator=Range.at_least(1))
    )
    parent = ConfigDef().define("name", T.STRING)
    assert parent.embed("transforms.t.", "Transforms: t", 5, child) is parent

    keys = parent.config_keys
    assert list(keys) == ["name", "transforms.t.size", "transforms.t.mode", "transforms.t.format"]
    assert keys["transforms.t.size"].group == "Transforms: t"
    assert keys["transforms.t.format"].group == "Transforms: t: Formats"
    assert [keys[k].order_in_group for k in list(keys)[1:]] == [5, 6, 7]
    assert keys["transforms.t.mode"].dependents == ["transforms.t.format"]
    assert parent.groups == ["Transforms: t", "Transforms: t: Formats"]

    values = parent.validate_all(
        {"name": "x", "transforms.t.mode": "other", "transforms.t.size": "0"}
    )
    # Validators report the name as the child knows it, as in Kafka.
    assert values["transforms.t.mode"].error_messages == [
        "Invalid value other for configuration mode: String must be one of: file, kafka"
    ]
    assert values["transforms.t.size"].error_messages == [
        "Invalid value 0 for configuration size: Value must be at least 1"
    ]
    assert values["transforms.t.format"].recommended_values == ["avro"]
    assert recommender.calls[-1] == ("format", {"mode": "other", "format": "json", "size": 0})
    assert parent.parse({"name": "x", "transforms.t.size": "2"})["transforms.t.size"] == 2
    assert error_of(parent, {"name": "x"}) == (
        'Missing required configuration "transforms.t.size" which has no default value.'
    )


# -- JSON Schema ------------------------------------------------------------------------------


def schema_def() -> ConfigDef:
    return (
        ConfigDef()
        .define(
            "file",
            T.STRING,
            importance=ConfigDef.Importance.HIGH,
            documentation="Source file.",
            group="Files",
            order_in_group=1,
            display_name="File",
        )
        .define("tasks.max", T.INT, 1, Range.at_least(1), ConfigDef.Importance.HIGH)
        .define("mode", T.STRING, "a", ValidString.in_("a", "b"))
        .define("codec", T.STRING, "none", CaseInsensitiveValidString.in_("none", "gzip"))
        .define("topics", T.LIST, "", ValidList.in_("x", "y"))
        .define("ratio", T.DOUBLE, 0.5, Range.between(0, 1))
        .define("enabled", T.BOOLEAN, True)
        .define("secret", T.PASSWORD, None)
        .define("klass", T.CLASS, "a.B", width=ConfigDef.Width.LONG)
        .define("port", T.SHORT, 80)
        .define("offset", T.LONG, 0, dependents=["file"])
    )


def test_json_schema_is_valid_draft_2020_12() -> None:
    schema = schema_def().to_json_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["type"] == "object"
    assert schema["required"] == ["file"]
    assert list(schema["properties"]) == list(schema_def().config_keys)


def test_json_schema_describes_each_key() -> None:
    props = schema_def().to_json_schema()["properties"]
    assert props["file"]["type"] == "string"
    assert props["file"]["description"] == "Source file."
    assert props["file"]["title"] == "File"
    assert "default" not in props["file"]
    assert props["file"]["x-kconnect"] == {
        "type": "STRING",
        "importance": "HIGH",
        "group": "Files",
        "order_in_group": 1,
        "width": "NONE",
        "display_name": "File",
        "dependents": [],
        "valid_values": "",
        "internal": False,
    }
    assert props["tasks.max"]["type"] == "integer"
    assert (props["tasks.max"]["minimum"], props["tasks.max"]["maximum"]) == (-(2**31), 2**31 - 1)
    assert props["tasks.max"]["allOf"] == [{"minimum": 1}]
    assert props["tasks.max"]["default"] == 1
    assert props["tasks.max"]["x-kconnect"]["valid_values"] == "[1,...]"
    assert props["mode"]["allOf"] == [{"enum": ["a", "b"]}]
    assert props["topics"] == {**props["topics"], "type": "array", "default": []}
    assert props["topics"]["allOf"] == [{"items": {"enum": ["x", "y"]}}]
    assert props["ratio"]["type"] == "number"
    assert props["enabled"]["type"] == "boolean" and props["enabled"]["default"] is True
    assert props["secret"]["type"] == ["string", "null"] and props["secret"]["writeOnly"] is True
    assert props["port"]["maximum"] == 32767
    assert props["offset"]["maximum"] == 2**63 - 1
    assert props["offset"]["x-kconnect"]["dependents"] == ["file"]
    assert props["klass"]["x-kconnect"]["width"] == "LONG"


def test_json_schema_checks_typed_instances_like_the_config_def() -> None:
    checker = Draft202012Validator(schema_def().to_json_schema())
    good = {"file": "f", "tasks.max": 3, "codec": "GZip", "topics": ["x"], "ratio": 1}
    assert list(checker.iter_errors(good)) == []
    bad = {"tasks.max": 0, "mode": "c", "codec": "zip", "topics": ["z"], "ratio": 2, "port": 2**20}
    failed = {
        (e.validator, e.absolute_path[0] if e.absolute_path else None)
        for e in checker.iter_errors(bad)
    }
    assert failed == {
        ("required", None),
        ("minimum", "tasks.max"),
        ("enum", "mode"),
        ("pattern", "codec"),
        ("enum", "topics"),
        ("maximum", "ratio"),
        ("maximum", "port"),
    }


def test_to_json_schema_returns_a_copy() -> None:
    definition = schema_def()
    definition.to_json_schema()["properties"].clear()
    assert "file" in definition.to_json_schema()["properties"]


def test_schema_is_recompiled_after_define() -> None:
    definition = ConfigDef().define("a", T.INT, 1)
    assert definition.parse({}) == {"a": 1}
    definition.define("b", T.INT)
    assert "b" in definition.to_json_schema()["required"]
    assert (
        error_of(definition, {}) == 'Missing required configuration "b" which has no default value.'
    )


# -- docs -------------------------------------------------------------------------------------


def docs_def() -> ConfigDef:
    return (
        ConfigDef()
        .define("b.opt", T.INT, 3, Range.at_least(1), ConfigDef.Importance.LOW, "Optional.")
        .define("a.req", T.STRING, importance=ConfigDef.Importance.HIGH, documentation="Required.")
        .define(
            "c.bytes", T.LONG, 1048576, importance=ConfigDef.Importance.HIGH, documentation="Buf."
        )
        .define("d.empty", T.STRING, "", importance=ConfigDef.Importance.HIGH, documentation="E.")
        .define_internal("hidden", T.STRING, "x")
    )


def test_to_rst_lists_required_first_then_importance_and_skips_internal() -> None:
    rst = docs_def().to_rst()
    assert rst.startswith("``a.req``\n  Required.\n\n  * Type: string\n  * Importance: high\n\n")
    assert "``c.bytes``\n  Buf.\n\n  * Type: long\n  * Default: 1048576 (1 mebibyte)\n" in rst
    assert '  * Default: ""\n' in rst
    assert "  * Valid Values: [1,...]\n  * Importance: low\n" in rst
    assert rst.index("c.bytes") < rst.index("d.empty") < rst.index("b.opt")
    assert "hidden" not in rst


def test_to_markdown_table() -> None:
    lines = docs_def().to_markdown().splitlines()
    assert lines[0] == "| Name | Description | Type | Default | Valid Values | Importance |"
    assert lines[2] == "| a.req | Required. | string |  |  | high |"
    assert lines[-1] == "| b.opt | Optional. | int | 3 | [1,...] | low |"
    assert len(lines) == 6


def test_enriched_rst_has_groups_and_dependents() -> None:
    definition = (
        ConfigDef()
        .define("a", T.STRING, "", group="Common", dependents=["b"])
        .define("b", T.STRING, "", group="Common")
    )
    rst = definition.to_enriched_rst()
    assert rst.startswith("Common\n^^^^^^\n\n``a``\n")
    assert "  * Dependents: ``b``\n" in rst


# -- AbstractConfig ---------------------------------------------------------------------------


class SampleConfig(AbstractConfig):
    DEF = (
        ConfigDef()
        .define("name", T.STRING)
        .define("tasks.max", T.INT, 1, Range.at_least(1))
        .define("enabled", T.BOOLEAN, True)
        .define("topics", T.LIST, "")
        .define("ratio", T.DOUBLE, 0.5)
        .define("offset", T.LONG, 0)
        .define("port", T.SHORT, 80)
        .define("secret", T.PASSWORD, None)
        .define("klass", T.CLASS, "pkg.Klass")
    )

    def __init__(self, originals: dict[str, Any]):
        super().__init__(self.DEF, originals)


def test_abstract_config_typed_getters() -> None:
    config = SampleConfig(
        {"name": "c", "tasks.max": "3", "topics": "a,b", "secret": "pw", "producer.acks": "all"}
    )
    assert config.get_string("name") == "c"
    assert config.get_int("tasks.max") == 3
    assert config.get_boolean("enabled") is True
    assert config.get_list("topics") == ["a", "b"]
    assert config.get_double("ratio") == 0.5
    assert config.get_long("offset") == 0
    assert config.get_short("port") == 80
    assert config.get_class("klass") == "pkg.Klass"
    assert config.get_password("secret").value == "pw"
    assert config.values()["secret"] == Password("pw")
    assert config.get("name") == "c"
    assert config.definition is SampleConfig.DEF


def test_abstract_config_parses_on_construction() -> None:
    with pytest.raises(ConfigException) as info:
        SampleConfig({"name": "c", "tasks.max": "0"})
    assert (
        str(info.value) == "Invalid value 0 for configuration tasks.max: Value must be at least 1"
    )
    with pytest.raises(ConfigException, match="Key must be a string."):
        AbstractConfig(ConfigDef(), {1: "x"})  # type: ignore[dict-item]


def test_abstract_config_unknown_key() -> None:
    config = SampleConfig({"name": "c"})
    with pytest.raises(ConfigException) as info:
        config.get("nope")
    assert str(info.value) == "Unknown configuration 'nope'"


def test_abstract_config_prefix_helpers() -> None:
    config = SampleConfig(
        {
            "name": "c",
            "producer.acks": "all",
            "producer.linger.ms": "5",
            "producer.": "empty suffix is skipped",
            "consumer.tasks.max": "7",
        }
    )
    assert config.originals_with_prefix("producer.") == {"acks": "all", "linger.ms": "5"}
    assert config.originals_with_prefix("producer.", strip=False) == {
        "producer.acks": "all",
        "producer.linger.ms": "5",
    }
    overridden = config.values_with_prefix_override("consumer.")
    assert overridden["tasks.max"] == 7 and overridden["name"] == "c"
    assert config.originals()["producer.acks"] == "all"
    assert config.originals({"extra": 1})["extra"] == 1


def test_abstract_config_tracks_unused_settings() -> None:
    config = SampleConfig({"name": "c", "tasks.max": "2", "producer.acks": "all", "other": "x"})
    assert config.unused() == {"name", "tasks.max", "producer.acks", "other"}
    config.get_string("name")
    config.originals_with_prefix("producer.")["acks"]
    config.ignore("other")
    assert config.unused() == {"tasks.max"}


def test_abstract_config_originals_strings() -> None:
    assert SampleConfig({"name": "c"}).originals_strings() == {"name": "c"}
    with pytest.raises(TypeError, match="Non-string value found in original settings for key n"):
        AbstractConfig(ConfigDef(), {"n": 5}).originals_strings()


def test_abstract_config_equality_and_logging(caplog: pytest.LogCaptureFixture) -> None:
    assert SampleConfig({"name": "c"}) == SampleConfig({"name": "c"})
    assert SampleConfig({"name": "c"}) != SampleConfig({"name": "d"})
    caplog.set_level("INFO")
    AbstractConfig(SampleConfig.DEF, {"name": "c", "secret": "topsecret"}, do_log=True)
    assert "AbstractConfig values:" in caplog.text
    assert "\tsecret = [hidden]" in caplog.text and "topsecret" not in caplog.text
