"""The worker runtime: task loops, the worker, herders and stores."""
