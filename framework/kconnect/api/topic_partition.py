"""A topic partition, as plugins see it (no confluent_kafka type leaks into the API)."""

from typing import NamedTuple


class TopicPartition(NamedTuple):
    topic: str
    partition: int

    def __str__(self) -> str:
        return f"{self.topic}-{self.partition}"
