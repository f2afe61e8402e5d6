"""The Celery app as test and benchmark workers run it: the project's app, with the broker's
visibility timeout shortened so that a message held by a killed worker comes back in seconds
rather than an hour (production keeps settings.CELERY_BROKER_TRANSPORT_OPTIONS)."""

import os

from opsdesk.celery import app

app.conf.broker_transport_options = {
    "visibility_timeout": float(os.environ.get("OPSDESK_TEST_VISIBILITY_TIMEOUT", "6")),
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}

__all__ = ["app"]
