"""Kafka Connect's built-in converters: JSON, String, ByteArray, the number converters and the
SimpleHeaderConverter, each matching Apache Kafka's bytes exactly.

Every class carries ``java_class_names``, so ``value.converter=org.apache.kafka.connect.json.
JsonConverter`` in a Kafka config file finds the Python class.
"""
