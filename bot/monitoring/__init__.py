"""Monitoring: probes, their schedule, check state, component health, history and outage alerts."""
