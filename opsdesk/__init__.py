"""OpsDesk: the Django project and its shared core (organisation, scoping, notifications)."""

from opsdesk.celery import app as celery_app

__all__ = ["celery_app"]
