"""Where a worker keeps connector configs, source offsets and statuses: files, memory, Kafka topics."""
