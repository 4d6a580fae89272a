"""statusbot: health checks, outage alerts, incidents and customer statements in chat."""

__version__ = "0.1.0"
