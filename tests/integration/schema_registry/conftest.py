"""The session's schema registry (built once into the cache, started on first use)."""

from confluent_kafka import Consumer, Producer
from kconnect.testing.fixtures import schema_registry

__all__ = ["schema_registry", "through_kafka"]


def through_kafka(bootstrap: str, topic: str, values: list[bytes | None]) -> list[bytes | None]:
    """Produce ``values`` to ``topic`` and consume them back, as the worker would."""
    producer = Producer({"bootstrap.servers": bootstrap})
    for value in values:
        producer.produce(topic, value)
    assert producer.flush(30) == 0
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"check-{topic}",
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([topic])
    got: list[bytes | None] = []
    for _ in range(60):
        got += [m.value() for m in consumer.consume(100, 1.0) if m.error() is None]
        if len(got) >= len(values):
            break
    consumer.close()
    return got
