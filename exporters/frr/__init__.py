"""colo-frr-exporter."""
