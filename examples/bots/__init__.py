"""Example arena.v1 bots served by one stdlib HTTP server: run ``python -m examples.bots.server``."""
