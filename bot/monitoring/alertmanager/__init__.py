"""Prometheus Alertmanager's webhook: alerts that hold components down like failing checks."""
