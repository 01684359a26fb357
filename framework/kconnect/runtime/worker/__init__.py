"""The worker: connector instances, task threads, their converters, transforms and clients."""
