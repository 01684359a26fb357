"""Source offset storage: the backing stores (file, memory, Kafka topic) and the per-connector
reader and writer that tasks use."""
