"""Converters that write and read through a schema registry in Confluent's wire format:
:class:`~.avro.AvroConverter`, :class:`~.json_schema.JsonSchemaConverter` and
:class:`~.protobuf.ProtobufConverter`, found also by Confluent's Java class names."""
