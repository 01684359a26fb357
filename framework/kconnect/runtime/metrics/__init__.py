"""Task and worker metrics: Kafka Connect's metric groups, served in Prometheus' format.

* ``task_metrics``: the counters a task runner keeps (moved per batch, never per record);
* ``client_statistics``: consumer lag and producer queue depth from librdkafka's statistics;
* ``worker_metrics``: the worker's own counters, the ``/metrics`` page, the own listener and the
  metrics reporter hooks;
* ``collector``: the Prometheus metric families, built from the live runners at scrape time;
* ``settings``: the worker keys.
"""
