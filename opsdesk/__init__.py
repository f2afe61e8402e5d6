"""OpsDesk: the Django project. The floor every app stands on (settings, organisation, scoping, API
base) and the roof that joins them (urls, API router, metrics, the Celery app)."""

from opsdesk.celery import app as celery_app

__all__ = ["celery_app"]
