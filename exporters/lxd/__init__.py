"""colo-lxd-exporter."""
