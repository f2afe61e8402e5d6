"""The REST API: the shared router, the scoped base viewset and the organisation endpoints."""
