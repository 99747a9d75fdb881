"""colo-bmc-exporter."""
