"""The WSGI application gunicorn serves (deploy/gunicorn.conf.py).

A bad setting (a missing DJANGO_SECRET_KEY with a DATABASE_URL, a malformed DATABASE_URL …) stops
the start in one line naming it. Exit code 4 is gunicorn's "App failed to load": should a worker
load the application itself (GUNICORN_PRELOAD=false), the arbiter then stops instead of forking
worker after worker.
"""

import os

from django.core.wsgi import get_wsgi_application

from opsdesk.preflight import exit_on_configuration_error

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsdesk.settings")
with exit_on_configuration_error(exit_code=4):
    application = get_wsgi_application()
