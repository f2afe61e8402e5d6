"""Service requests: types and forms, requests, comments, attachments."""
