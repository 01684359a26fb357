"""The settings every schema-registry converter shares, under Confluent's key names.

They are read once, in ``configure``, into a :class:`RegistrySettings`; the client
configuration built from them holds the credentials, which therefore never reach a log line,
an error message or ``repr()`` (the URL's own ``user:password@`` is cut out of messages too).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kconnect.api.errors import ConfigException

from kconnect_builtins.converters.settings import converter_config_def, get_bool, get_int

if TYPE_CHECKING:
    from kconnect.api.config import ConfigDef

URL_CONFIG = "schema.registry.url"
CREDENTIALS_SOURCE_CONFIG = "basic.auth.credentials.source"
USER_INFO_CONFIG = "basic.auth.user.info"
SR_USER_INFO_CONFIG = "schema.registry.basic.auth.user.info"
AUTO_REGISTER_CONFIG = "auto.register.schemas"
USE_LATEST_VERSION_CONFIG = "use.latest.version"
KEY_STRATEGY_CONFIG = "key.subject.name.strategy"
VALUE_STRATEGY_CONFIG = "value.subject.name.strategy"
CONNECT_META_DATA_CONFIG = "connect.meta.data"
ENHANCED_AVRO_CONFIG = "enhanced.avro.schema.support"
SCHEMAS_CACHE_CONFIG = "schemas.cache.config"
NORMALIZE_CONFIG = "normalize.schemas"
REQUEST_TIMEOUT_CONFIG = "schema.registry.request.timeout.ms"
SSL_TRUSTSTORE_LOCATION = "schema.registry.ssl.truststore.location"
SSL_TRUSTSTORE_TYPE = "schema.registry.ssl.truststore.type"
SSL_KEYSTORE_LOCATION = "schema.registry.ssl.keystore.location"
SSL_KEYSTORE_TYPE = "schema.registry.ssl.keystore.type"
SSL_KEY_PASSWORD = "schema.registry.ssl.key.password"
SSL_KEY_LOCATION = "schema.registry.ssl.key.location"
SSL_ENDPOINT_IDENTIFICATION = "schema.registry.ssl.endpoint.identification.algorithm"

_STRATEGY_PACKAGE = "io.confluent.kafka.serializers.subject."
STRATEGIES = ("TopicNameStrategy", "RecordNameStrategy", "TopicRecordNameStrategy")
_CREDENTIAL_SOURCES = ("URL", "USER_INFO", "SASL_INHERIT")
_USERINFO_IN_URL = re.compile(r"//[^/@]*@")


def redact_url(url: str) -> str:
    """``url`` without any ``user:password@`` part, for messages."""
    return _USERINFO_IN_URL.sub("//", url)


def _strategy(configs: Mapping[str, Any], key: str) -> str:
    value = configs.get(key)
    if value is None or value == "":
        return "TopicNameStrategy"
    name = str(value).strip()
    simple = name[len(_STRATEGY_PACKAGE) :] if name.startswith(_STRATEGY_PACKAGE) else name
    if simple not in STRATEGIES:
        raise ConfigException(
            f"Invalid value {name} for configuration {key}: Class {name} could not be found. "
            f"Use one of {', '.join(_STRATEGY_PACKAGE + s for s in STRATEGIES)}",
            key,
            value,
        )
    return simple


@dataclass(frozen=True)
class RegistrySettings:
    """What a schema-registry converter was configured with (credentials only inside
    ``client_conf``, which is left out of ``repr``)."""

    urls: tuple[str, ...]
    auto_register: bool
    use_latest_version: bool
    key_strategy: str
    value_strategy: str
    connect_meta_data: bool
    enhanced_avro: bool
    cache_size: int
    normalize: bool
    client_conf: dict[str, Any] = field(repr=False)

    def strategy(self, is_key: bool) -> str:
        return self.key_strategy if is_key else self.value_strategy

    @property
    def shown_urls(self) -> str:
        return ", ".join(redact_url(u) for u in self.urls)


def read_settings(configs: Mapping[str, Any]) -> RegistrySettings:
    """Parse and check the shared keys; raises ConfigException naming the key at fault."""
    raw_urls = configs.get(URL_CONFIG)
    if isinstance(raw_urls, (list, tuple)):
        urls = tuple(str(u).strip() for u in raw_urls if str(u).strip())
    else:
        urls = tuple(u.strip() for u in str(raw_urls or "").split(",") if u.strip())
    if not urls:
        raise ConfigException(
            f'Missing required configuration "{URL_CONFIG}" which has no default value.',
            URL_CONFIG,
        )
    for url in urls:
        if not url.startswith(("http://", "https://")):
            raise ConfigException(
                f"Invalid value {redact_url(url)} for configuration {URL_CONFIG}: "
                "a schema registry URL starts with http:// or https://",
                URL_CONFIG,
            )
    timeout_ms = get_int(configs, REQUEST_TIMEOUT_CONFIG, 30_000)
    client_conf: dict[str, Any] = {
        "url": ",".join(urls),
        "timeout": timeout_ms / 1000,
        # The task's error handler retries (errors.retry.timeout); a few quick client-side
        # retries ride out a registry restart without holding the task for long.
        "max.retries": 2,
        "retries.wait.ms": 200,
        "retries.max.wait.ms": 2000,
    }
    _add_credentials(configs, client_conf, urls)
    _add_tls(configs, client_conf)
    return RegistrySettings(
        urls=urls,
        auto_register=get_bool(configs, AUTO_REGISTER_CONFIG, True),
        use_latest_version=get_bool(configs, USE_LATEST_VERSION_CONFIG, False),
        key_strategy=_strategy(configs, KEY_STRATEGY_CONFIG),
        value_strategy=_strategy(configs, VALUE_STRATEGY_CONFIG),
        connect_meta_data=get_bool(configs, CONNECT_META_DATA_CONFIG, True),
        enhanced_avro=get_bool(configs, ENHANCED_AVRO_CONFIG, False),
        # At least one: a registry converter always keeps the schema it just used.
        cache_size=max(get_int(configs, SCHEMAS_CACHE_CONFIG, 1000), 1),
        normalize=get_bool(configs, NORMALIZE_CONFIG, False),
        client_conf=client_conf,
    )


def _secret(value: Any) -> str:
    # A Password from a ConfigDef parse, or the plain text the worker hands converters.
    return str(getattr(value, "value", value) or "")


def _add_credentials(
    configs: Mapping[str, Any], conf: dict[str, Any], urls: tuple[str, ...]
) -> None:
    source = str(configs.get(CREDENTIALS_SOURCE_CONFIG) or "URL").strip().upper()
    if source not in _CREDENTIAL_SOURCES:
        raise ConfigException(
            f"Invalid value {source} for configuration {CREDENTIALS_SOURCE_CONFIG}: "
            f"String must be one of: {', '.join(_CREDENTIAL_SOURCES)}",
            CREDENTIALS_SOURCE_CONFIG,
        )
    if source == "USER_INFO":
        user_info = _secret(configs.get(SR_USER_INFO_CONFIG) or configs.get(USER_INFO_CONFIG))
        if ":" not in user_info:
            # The value itself is a secret: never shown.
            raise ConfigException(
                f"Invalid value [hidden] for configuration {USER_INFO_CONFIG}: with "
                f"{CREDENTIALS_SOURCE_CONFIG}=USER_INFO it must be <username>:<password>",
                USER_INFO_CONFIG,
            )
        conf["basic.auth.user.info"] = user_info
        # The client refuses credentials in both places; USER_INFO wins, as in Confluent's.
        conf["url"] = ",".join(redact_url(u) for u in urls)
    elif source == "SASL_INHERIT":
        raise ConfigException(
            f"{CREDENTIALS_SOURCE_CONFIG}=SASL_INHERIT is not supported by kconnect's "
            "schema-registry converters; use USER_INFO with basic.auth.user.info",
            CREDENTIALS_SOURCE_CONFIG,
        )
    # URL: the client reads user:password@ from the first URL itself.


def _add_tls(configs: Mapping[str, Any], conf: dict[str, Any]) -> None:
    """Java's keystore keys, for PEM files (the only kind Python's ssl module reads)."""
    for location_key, type_key in (
        (SSL_TRUSTSTORE_LOCATION, SSL_TRUSTSTORE_TYPE),
        (SSL_KEYSTORE_LOCATION, SSL_KEYSTORE_TYPE),
    ):
        if configs.get(location_key) and str(configs.get(type_key) or "JKS").upper() != "PEM":
            raise ConfigException(
                f"Invalid value {configs.get(type_key) or 'JKS'} for configuration {type_key}: "
                f"kconnect reads {location_key} as a PEM file only; convert the store (e.g. "
                "'keytool -exportcert -rfc' or 'openssl pkcs12 -nodes') and set "
                f"{type_key}=PEM",
                type_key,
            )
    if configs.get(SSL_TRUSTSTORE_LOCATION):
        conf["ssl.ca.location"] = str(configs[SSL_TRUSTSTORE_LOCATION])
    if configs.get(SSL_KEYSTORE_LOCATION):
        conf["ssl.certificate.location"] = str(configs[SSL_KEYSTORE_LOCATION])
        conf["ssl.key.location"] = str(
            configs.get(SSL_KEY_LOCATION) or configs[SSL_KEYSTORE_LOCATION]
        )
        if configs.get(SSL_KEY_PASSWORD):
            conf["ssl.key.password"] = _secret(configs[SSL_KEY_PASSWORD])


def config_def(*, avro: bool = False) -> ConfigDef:
    """The keys of Confluent's AbstractKafkaSchemaSerDeConfig that kconnect reads (and, with
    ``avro``, AvroDataConfig's)."""
    from kconnect.api.config import ConfigDef

    T, I = ConfigDef.Type, ConfigDef.Importance
    strategy_doc = (
        "How the subject name is built: TopicNameStrategy (<topic>-key/-value), "
        "RecordNameStrategy (the record's full name) or TopicRecordNameStrategy "
        "(<topic>-<record name>); Confluent's class names are accepted."
    )
    definition = (
        converter_config_def()
        .define(
            URL_CONFIG,
            T.LIST,
            ConfigDef.NO_DEFAULT_VALUE,
            None,
            I.HIGH,
            "Comma-separated list of schema registry URLs; tried in turn.",
        )
        .define(
            CREDENTIALS_SOURCE_CONFIG,
            T.STRING,
            "URL",
            None,
            I.MEDIUM,
            "Where the basic-auth credentials come from: URL (user:password@ in the URL) "
            "or USER_INFO (basic.auth.user.info).",
        )
        .define(
            USER_INFO_CONFIG,
            T.PASSWORD,
            None,
            None,
            I.MEDIUM,
            "<username>:<password> for the registry, with basic.auth.credentials.source="
            "USER_INFO. Use a ${...} config provider to keep it out of files.",
        )
        .define(
            SR_USER_INFO_CONFIG,
            T.PASSWORD,
            None,
            None,
            I.MEDIUM,
            "Same as basic.auth.user.info; wins when both are set.",
        )
        .define(
            AUTO_REGISTER_CONFIG,
            T.BOOLEAN,
            True,
            None,
            I.MEDIUM,
            "Register the schema of written data if the subject does not have it yet.",
        )
        .define(
            USE_LATEST_VERSION_CONFIG,
            T.BOOLEAN,
            False,
            None,
            I.MEDIUM,
            "Write with the subject's latest schema instead of the data's own (with "
            "auto.register.schemas=false).",
        )
        .define(
            KEY_STRATEGY_CONFIG,
            T.STRING,
            _STRATEGY_PACKAGE + "TopicNameStrategy",
            None,
            I.MEDIUM,
            strategy_doc,
        )
        .define(
            VALUE_STRATEGY_CONFIG,
            T.STRING,
            _STRATEGY_PACKAGE + "TopicNameStrategy",
            None,
            I.MEDIUM,
            strategy_doc,
        )
        .define(
            NORMALIZE_CONFIG,
            T.BOOLEAN,
            False,
            None,
            I.LOW,
            "Ask the registry to normalize schemas when registering or looking them up.",
        )
        .define(
            REQUEST_TIMEOUT_CONFIG,
            T.INT,
            30_000,
            None,
            I.LOW,
            "How long one request to the registry may take, in milliseconds.",
        )
        .define(
            SSL_TRUSTSTORE_LOCATION,
            T.STRING,
            None,
            None,
            I.LOW,
            "PEM file of the CA certificates that sign the registry's certificate.",
        )
        .define(
            SSL_TRUSTSTORE_TYPE,
            T.STRING,
            "JKS",
            None,
            I.LOW,
            "Must be PEM when a truststore is given.",
        )
        .define(
            SSL_KEYSTORE_LOCATION,
            T.STRING,
            None,
            None,
            I.LOW,
            "PEM file of the client certificate (and key) for mutual TLS.",
        )
        .define(
            SSL_KEYSTORE_TYPE, T.STRING, "JKS", None, I.LOW, "Must be PEM when a keystore is given."
        )
        .define(
            SSL_KEY_LOCATION,
            T.STRING,
            None,
            None,
            I.LOW,
            "PEM file of the client key, when not in the keystore file.",
        )
        .define(SSL_KEY_PASSWORD, T.PASSWORD, None, None, I.LOW, "Password of the client key.")
        .define(
            SCHEMAS_CACHE_CONFIG,
            T.INT,
            1000,
            None,
            I.LOW,
            "How many schemas each converter instance keeps converted.",
        )
        .define(
            CONNECT_META_DATA_CONFIG,
            T.BOOLEAN,
            True,
            None,
            I.LOW,
            "Keep Connect's schema name, version, doc and parameters in the registry's "
            "schema (connect.name, connect.version, ...).",
        )
    )
    if avro:
        definition.define(
            ENHANCED_AVRO_CONFIG,
            T.BOOLEAN,
            False,
            None,
            I.LOW,
            "Keep Avro enums and full union member names through Connect.",
        )
    return definition
