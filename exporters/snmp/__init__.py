"""colo-snmp-exporter."""
