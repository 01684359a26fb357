"""Distributed mode: workers that share connectors and tasks through Kafka's group coordinator
and three compacted internal topics (configs, offsets, statuses)."""
