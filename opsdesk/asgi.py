"""The ASGI application (nothing in deploy/ serves it; kept guarded like opsdesk/wsgi.py)."""

import os

from django.core.asgi import get_asgi_application

from opsdesk.preflight import exit_on_configuration_error

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsdesk.settings")
with exit_on_configuration_error(exit_code=4):
    application = get_asgi_application()
