"""WSGI entry point (gunicorn mali_history.wsgi)."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mali_history.settings")
application = get_wsgi_application()
