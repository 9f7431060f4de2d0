"""ASGI entry point: what gunicorn serves (mali_history/gunicorn.conf.py, its asgi worker).

Anonymous readers are answered on the event loop from the page cache or from the article pages
stored at publish time, before Django builds a request (``articles.front``); every other request
goes to Django's WSGI handler on a fixed pool of threads (``mali_history.wsgi_threads``).
"""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mali_history.settings")
django_application = get_wsgi_application()

# Imported once the app registry is loaded (get_wsgi_application sets Django up).
from articles.front import PublicPagesFront  # noqa: E402
from mali_history.wsgi_threads import WSGIOnThreads  # noqa: E402

application = PublicPagesFront(
    WSGIOnThreads(django_application, threads=int(os.environ.get("GUNICORN_THREADS", "4")))
)
