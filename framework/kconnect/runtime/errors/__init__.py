"""Error handling of tasks: tolerance, retries, reporters, the dead letter queue."""
