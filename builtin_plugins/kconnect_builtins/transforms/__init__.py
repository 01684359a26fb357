"""Kafka Connect's single message transforms, with Apache Kafka's config keys and behaviour.

Each module holds one transform; the ones Kafka offers for the key and for the value have
nested ``Key`` and ``Value`` classes (``Cast.Key``, ``Cast.Value``). Every class names the
Java class it stands in for in ``java_class_names``, so Kafka's configs work unchanged.
"""
