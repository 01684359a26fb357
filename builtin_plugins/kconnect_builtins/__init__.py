"""kconnect's built-in plugins: file connectors, converters, transforms, predicates and config
providers. They are registered through entry points exactly like third-party plugins."""
