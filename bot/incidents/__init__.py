"""Incidents: lifecycle, timeline, reminders, summaries and post-mortems."""
