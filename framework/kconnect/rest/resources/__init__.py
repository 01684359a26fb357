"""One Falcon resource class per Kafka Connect REST resource."""
