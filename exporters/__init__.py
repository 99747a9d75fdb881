"""colo-exporters: Prometheus exporters for a small LXD colocation rack."""

__version__ = "0.1.0"
