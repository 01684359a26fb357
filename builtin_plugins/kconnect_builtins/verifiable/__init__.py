"""VerifiableSource and VerifiableSink: Apache Kafka's connectors for system tests, with its config
keys, source partitions and offsets. Each record carries a per-task sequence number, and each task
reports the records it got through, so a test can prove that none was lost or repeated."""
