"""WSGI entry point (gunicorn mali_history.wsgi)."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mali_history.settings")
application = get_wsgi_application()

# Anonymous readers' cached pages are answered before Django builds a request (articles.caching).
from articles.caching import PublicPageCacheApp  # noqa: E402  (needs the app registry loaded above)

application = PublicPageCacheApp(application)
