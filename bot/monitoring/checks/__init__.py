"""Health-check probes (http, tcp, tls, journey) and the Gatus condition language they share."""
