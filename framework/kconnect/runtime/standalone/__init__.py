"""Standalone mode: one worker, configs from the command line and REST."""
