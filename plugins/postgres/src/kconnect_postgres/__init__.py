"""PostgreSQL source and sink connectors for kconnect, with Confluent's JDBC connector's config
keys, offsets and class names (``PostgresSource``/``PostgresSink``, or
``io.confluent.connect.jdbc.JdbcSourceConnector``/``JdbcSinkConnector``)."""

__version__ = "0.1.0"
