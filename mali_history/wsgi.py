"""WSGI entry point, for WSGI servers. gunicorn serves mali_history.asgi (see gunicorn.conf.py)."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mali_history.settings")
application = get_wsgi_application()
