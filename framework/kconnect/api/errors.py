"""Exceptions shared by plugins and the runtime (Kafka Connect's ``org.apache.kafka.connect.errors``)."""


class ConnectException(Exception):
    """Base class of every error kconnect and its plugins raise on purpose."""


class DataException(ConnectException):
    """A value does not match its schema, or data cannot be (de)serialized."""


class SchemaBuilderException(DataException):
    """A SchemaBuilder was asked for something contradictory."""


class RetriableException(ConnectException):
    """A failure that may go away if the same operation is tried again."""


class ConfigException(ConnectException):
    """A configuration is invalid. ``name`` is the offending key, when there is one."""

    def __init__(self, message: str, name: str | None = None, value: object = None):
        super().__init__(message)
        self.name = name
        self.value = value


class NotFoundException(ConnectException):
    """A connector, task or plugin that was asked for does not exist."""


class AlreadyExistsException(ConnectException):
    """A connector with that name already exists."""


class IllegalWorkerStateException(ConnectException):
    """The runtime was asked to do something its current state does not allow."""
