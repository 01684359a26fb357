"""FileStreamSource and FileStreamSink: Apache Kafka's example connectors, with its config keys."""
