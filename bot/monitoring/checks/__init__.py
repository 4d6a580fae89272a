"""Health-check probes (http, tcp, tls, dns, journey) and the Gatus conditions they share."""
