"""WSGI entry point (``gunicorn --config deploy/gunicorn.conf.py liqsite.wsgi``)."""

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liqsite.settings")
application = get_wsgi_application()

# A visitor should not wait long for a locked SQLite database: after this wait
# the request fails over to the plain 503 page (liqsite.error_pages). Workers and
# commands keep the longer wait from settings, since nobody watches them.
# Connections are opened lazily from this very dict, so the change applies to all of them.
for _database in settings.DATABASES.values():
    if _database["ENGINE"].endswith("sqlite3"):
        _database.setdefault("OPTIONS", {})["timeout"] = settings.LIQSITE_REQUEST_DB_WAIT_SECONDS
