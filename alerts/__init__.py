"""Monitoring alerts: mail and webhook intake, parsing, incidents, the operator board."""
