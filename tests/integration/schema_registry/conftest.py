"""The session's schema registry (built once into the cache, started on first use)."""

from kconnect.testing.fixtures import schema_registry

__all__ = ["schema_registry"]
