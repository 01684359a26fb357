"""The public plugin API of kconnect: everything a connector, converter, transform, predicate or
config provider author imports. It never imports the runtime or confluent_kafka.

    from kconnect.api import SourceConnector, SourceTask, SourceRecord, ConfigDef, Schema
"""

from kconnect.api.config import (
    NO_DEFAULT_VALUE,
    AbstractConfig,
    Config,
    ConfigDef,
    ConfigKey,
    ConfigValue,
    Password,
)
from kconnect.api.config_provider import ConfigData, ConfigProvider
from kconnect.api.connector import (
    Connector,
    ConnectorContext,
    SinkConnector,
    SinkConnectorContext,
    SourceConnector,
    SourceConnectorContext,
)
from kconnect.api.converter import Converter, HeaderConverter
from kconnect.api.data import (
    Date,
    Decimal,
    Field,
    Schema,
    SchemaAndValue,
    SchemaBuilder,
    Struct,
    Time,
    Timestamp,
    Type,
)
from kconnect.api.errors import (
    AlreadyExistsException,
    ConfigException,
    ConnectException,
    DataException,
    NotFoundException,
    RetriableException,
)
from kconnect.api.records import (
    ConnectRecord,
    Header,
    Headers,
    SinkRecord,
    SourceRecord,
    TimestampType,
)
from kconnect.api.storage import OffsetStorageReader
from kconnect.api.task import (
    ErrantRecordReporter,
    RecordMetadata,
    SinkTask,
    SinkTaskContext,
    SourceTask,
    SourceTaskContext,
    Task,
)
from kconnect.api.topic_partition import TopicPartition
from kconnect.api.transform import Predicate, Transformation

__all__ = [
    "AbstractConfig",
    "AlreadyExistsException",
    "Config",
    "ConfigData",
    "ConfigDef",
    "ConfigException",
    "ConfigKey",
    "ConfigProvider",
    "ConfigValue",
    "ConnectException",
    "ConnectRecord",
    "Connector",
    "ConnectorContext",
    "Converter",
    "DataException",
    "Date",
    "Decimal",
    "ErrantRecordReporter",
    "Field",
    "Header",
    "HeaderConverter",
    "Headers",
    "NO_DEFAULT_VALUE",
    "NotFoundException",
    "OffsetStorageReader",
    "Password",
    "Predicate",
    "RecordMetadata",
    "RetriableException",
    "Schema",
    "SchemaAndValue",
    "SchemaBuilder",
    "SinkConnector",
    "SinkConnectorContext",
    "SinkRecord",
    "SinkTask",
    "SinkTaskContext",
    "SourceConnector",
    "SourceConnectorContext",
    "SourceRecord",
    "SourceTask",
    "SourceTaskContext",
    "Struct",
    "Task",
    "Time",
    "Timestamp",
    "TimestampType",
    "TopicPartition",
    "Transformation",
    "Type",
]
