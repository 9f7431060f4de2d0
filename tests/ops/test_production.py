"""Production settings: environment-driven configuration, check --deploy, CSP and security
headers, gunicorn and whitenoise serving."""

import http.client
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings

from tests import factories

PROJECT = Path(__file__).resolve().parents[2]
PUBLIC_PAGES = ["/", "/articles/minusma/", "/topics/", "/topics/peacekeeping/", "/sources/", "/sources/unsc-res-2100/"]


def production_env(**extra):
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "GUNICORN_"))}
    env.update(
        DJANGO_DEBUG="0", DJANGO_SECRET_KEY=secrets.token_urlsafe(50), DJANGO_SETTINGS_MODULE="mali_history.settings"
    )
    env.update(extra)
    return env


def production_settings(*names, **env):
    """Settings as a production process sees them, read in a fresh interpreter."""
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n) for n in {list(names)!r}}}, default=str))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=production_env(**env), cwd=PROJECT, capture_output=True, text=True, check=True
    ).stdout
    return json.loads(out)


@pytest.fixture
def site(moderator):
    topic = factories.topic(moderator, name="Peacekeeping", slug="peacekeeping")
    factories.source(moderator, key="unsc-res-2100", title="Resolution 2100 (2013)")
    article = factories.article(moderator, title="MINUSMA", slug="minusma")
    factories.section(
        moderator,
        article,
        topics=[topic],
        title="Mandate",
        anchor="mandate",
        body="The Council set up the mission in April 2013 [@unsc-res-2100].",
    )


# --- Settings from the environment ---------------------------------------------------------------


def test_check_deploy_reports_nothing_with_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=production_env(),
        cwd=PROJECT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stderr and "ERROR" not in result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    env = production_env()
    del env["DJANGO_SECRET_KEY"]
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"], env=env, cwd=PROJECT, capture_output=True, text=True
    )
    assert result.returncode != 0 and "DJANGO_SECRET_KEY" in result.stderr


def test_postgresql_through_psycopg3_with_persistent_connections_and_health_checks():
    values = production_settings("DATABASES", DATABASE_URL="postgres://app:secret@db.internal:5433/history")
    database = values["DATABASES"]["default"]
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["HOST"], database["PORT"], database["NAME"], database["USER"]) == (
        "db.internal",
        5433,
        "history",
        "app",
    )
    assert database["CONN_MAX_AGE"] >= 60 and database["CONN_HEALTH_CHECKS"] is True
    import psycopg  # The driver Django uses when it is installed: psycopg 3.

    assert psycopg.__version__.startswith("3.")


def test_redis_is_the_shared_cache_when_redis_url_is_set_and_local_memory_otherwise():
    with_redis = production_settings("CACHES", "PUBLIC_PAGE_CACHE", REDIS_URL="redis://cache.internal:6379/2")
    assert with_redis["CACHES"]["default"]["BACKEND"] == "mali_history.cache.RedisCache"
    assert with_redis["CACHES"]["default"]["LOCATION"] == "redis://cache.internal:6379/2"
    assert with_redis["PUBLIC_PAGE_CACHE"] is True
    env = {"REDIS_URL": ""}
    without = production_settings("CACHES", "PUBLIC_PAGE_CACHE", **env)
    assert without["CACHES"]["default"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    # A per-process cache cannot be invalidated across workers: no page cache on it.
    assert without["PUBLIC_PAGE_CACHE"] is False


def test_hosts_roots_storage_and_mail_come_from_the_environment(tmp_path):
    values = production_settings(
        "ALLOWED_HOSTS",
        "STATIC_ROOT",
        "MEDIA_ROOT",
        "STORAGES",
        "MAILERS",
        "STATIC_PUBLISH_ROOT",
        "DEFAULT_FROM_EMAIL",
        DJANGO_ALLOWED_HOSTS="history.example.org,www.history.example.org",
        DJANGO_STATIC_ROOT=str(tmp_path / "static"),
        DJANGO_MEDIA_ROOT=str(tmp_path / "media"),
        DJANGO_MEDIA_STORAGE="django.core.files.storage.InMemoryStorage",
        DJANGO_MEDIA_STORAGE_OPTIONS='{"base_url": "/m/"}',
        DJANGO_STATIC_PUBLISH_ROOT=str(tmp_path / "baked"),
        DJANGO_EMAIL_HOST="smtp.example.org",
        DJANGO_EMAIL_USER="history",
        DJANGO_DEFAULT_FROM_EMAIL="History <noreply@example.org>",
    )
    assert values["ALLOWED_HOSTS"] == ["history.example.org", "www.history.example.org"]
    assert values["STATIC_ROOT"] == str(tmp_path / "static") and values["MEDIA_ROOT"] == str(tmp_path / "media")
    assert values["STORAGES"]["default"] == {
        "BACKEND": "django.core.files.storage.InMemoryStorage",
        "OPTIONS": {"base_url": "/m/"},
    }
    assert values["STORAGES"]["staticfiles"]["BACKEND"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    assert values["STATIC_PUBLISH_ROOT"] == str(tmp_path / "baked")
    mailer = values["MAILERS"]["default"]
    assert mailer["BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert mailer["OPTIONS"]["host"] == "smtp.example.org" and mailer["OPTIONS"]["username"] == "history"
    assert values["DEFAULT_FROM_EMAIL"] == "History <noreply@example.org>"


def test_https_only_cookies_and_hsts_in_production():
    values = production_settings(
        "DEBUG",
        "SECURE_SSL_REDIRECT",
        "SECURE_PROXY_SSL_HEADER",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SESSION_COOKIE_HTTPONLY",
    )
    assert values["DEBUG"] is False and values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["SESSION_COOKIE_SECURE"] and values["CSRF_COOKIE_SECURE"] and values["SESSION_COOKIE_HTTPONLY"]
    assert values["SECURE_HSTS_SECONDS"] >= 31_536_000 and values["SECURE_HSTS_INCLUDE_SUBDOMAINS"]


def test_logging_is_structured():
    formatter = settings.LOGGING["formatters"][settings.LOGGING["handlers"]["console"]["formatter"]]["format"]
    assert re.fullmatch(r"(\w+=%\(\w+\)s ?)+", formatter)


# --- Headers on the pages -------------------------------------------------------------------------


class InlineFinder(HTMLParser):
    def __init__(self):
        super().__init__()
        self.inline = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        # A data block (JSON-LD) is never executed, so script-src does not concern it.
        executable = (attrs.get("type") or "text/javascript") in ("text/javascript", "module", "application/javascript")
        if tag == "style" or (tag == "script" and "src" not in attrs and executable) or "style" in attrs:
            self.inline.append(tag)
        self.inline.extend(name for name in attrs if name.startswith("on"))


@pytest.mark.django_db
@pytest.mark.parametrize("url", PUBLIC_PAGES)
def test_public_pages_have_a_strict_csp_and_no_inline_script_or_style(client, site, url):
    response = client.get(url)
    assert response.status_code == 200
    policy = dict((directive.split(" ", 1) + [""])[:2] for directive in response["Content-Security-Policy"].split("; "))
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"  # No nonce, no 'unsafe-inline'.
    assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'" and policy["base-uri"] == "'self'"
    assert "unsafe" not in response["Content-Security-Policy"]
    finder = InlineFinder()
    finder.feed(response.content.decode())
    assert finder.inline == []


@pytest.mark.django_db
@pytest.mark.parametrize("url", PUBLIC_PAGES)
def test_public_pages_send_the_security_headers(client, site, url):
    response = client.get(url)
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


@pytest.mark.django_db
def test_the_admin_gets_nonces_not_unsafe_inline(client):
    response = client.get("/admin/login/")
    policy = response["Content-Security-Policy"]
    nonce = re.search(r"script-src 'self' 'nonce-([\w-]+)'", policy)
    assert nonce and "unsafe-inline" not in policy
    assert client.get("/admin/login/")["Content-Security-Policy"] != policy  # A fresh nonce per response.


# --- gunicorn and whitenoise ----------------------------------------------------------------------


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gunicorn_config(**env):
    result = subprocess.run(
        [str(Path(sys.executable).parent / "gunicorn"), "--print-config", "-c", "mali_history/gunicorn.conf.py"],
        env=production_env(**env),
        cwd=PROJECT,
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(re.findall(r"^(\w+)\s+= (.*)$", result.stdout, re.M))


def test_gunicorn_config_serves_the_stock_wsgi_application_on_threaded_workers():
    config = gunicorn_config()
    assert config["worker_class"] == "gthread"
    assert config["wsgi_app"] == "mali_history.wsgi:application"
    assert int(config["threads"]) >= 2 and int(config["workers"]) >= 1
    assert int(config["keepalive"]) >= 5  # Longer than nginx's idle upstream timeout.
    assert int(config["timeout"]) == 30 and int(config["graceful_timeout"]) > 0
    assert config["accesslog"] == "None" and config["preload_app"] == "True"
    tuned = gunicorn_config(GUNICORN_WORKERS="3", GUNICORN_THREADS="8")
    assert (tuned["workers"], tuned["threads"]) == ("3", "8")


def test_the_entry_points_are_djangos_own():
    from django.core.handlers.asgi import ASGIHandler
    from django.core.handlers.wsgi import WSGIHandler

    from mali_history import asgi, wsgi

    assert type(wsgi.application) is WSGIHandler and type(asgi.application) is ASGIHandler


class Gunicorn:
    """`make serve` without the Makefile: gunicorn with the config file, one worker, until stopped."""

    def __init__(self, env):
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "-c",
                "mali_history/gunicorn.conf.py",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "1",
            ],
            env=env,
            cwd=PROJECT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def sign_in(self, username, *, form_from=None) -> str:
        """Sign in to the admin with the form ``form_from`` served (this server by default); the session id."""
        page, body = (form_from or self).request("GET", "/admin/login/")
        assert page.status == 200
        csrf_cookie = re.search(r"csrftoken=([^;]+)", " ".join(page.headers.get_all("Set-Cookie"))).group(1)
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
        origin = f"https://127.0.0.1:{self.port}"
        form = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": token, "username": username, "password": factories.PASSWORD, "next": "/admin/"}
        )
        signed_in, _ = self.request(
            "POST",
            "/admin/login/",
            body=form,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": f"csrftoken={csrf_cookie}",
                "Origin": origin,
                "Referer": f"{origin}/admin/login/",
            },
        )
        assert signed_in.status == 302 and signed_in.headers["Location"] == "/admin/"
        return re.search(r"sessionid=([^;]+)", " ".join(signed_in.headers.get_all("Set-Cookie"))).group(1)

    def request(self, method, path, body=None, headers=()):
        """One request as nginx forwards it (X-Forwarded-Proto: https), waiting for the server to start."""
        deadline = time.monotonic() + 30
        while True:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            try:
                connection.request(method, path, body=body, headers={"X-Forwarded-Proto": "https", **dict(headers)})
                response = connection.getresponse()
                return response, response.read()
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
            finally:
                connection.close()

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)


def test_gunicorn_serves_compressed_hashed_static_files_with_production_settings(tmp_path):
    """What `make serve` does: collectstatic, then gunicorn with the config file."""
    env = production_env(
        DJANGO_STATIC_ROOT=str(tmp_path / "static"), DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", REDIS_URL=""
    )
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], env=env, cwd=PROJECT, check=True
    )
    manifest = json.loads((tmp_path / "static" / "staticfiles.json").read_text())["paths"]
    hashed = manifest["css/site.css"]
    assert re.fullmatch(r"css/site\.[0-9a-f]{12}\.css", hashed)
    assert (tmp_path / "static" / f"{hashed}.gz").exists()

    server = Gunicorn(env)
    try:
        response, _body = server.request("GET", f"/static/{hashed}", headers={"Accept-Encoding": "gzip"})
        assert response.status == 200
        assert response.headers["Content-Encoding"] == "gzip"
        assert "immutable" in response.headers["Cache-Control"]
    finally:
        server.stop()


def test_through_gunicorn_a_reader_gets_an_article_and_an_editor_signs_in(tmp_path):
    """`make serve` on SQLite: a published article for an anonymous reader on a kept-alive
    connection, then forms, cookies and redirects through gunicorn's threaded worker."""
    env = production_env(
        DJANGO_STATIC_ROOT=str(tmp_path / "static"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        REDIS_URL="",
        DJANGO_SUPERUSER_PASSWORD=factories.PASSWORD,
    )
    article = tmp_path / "article.txt"
    article.write_text(
        "The Founding of MINUSMA\n\nThe Security Council set up the mission in April 2013.\n\n"
        "Mandate\n\nThe mission was to support the political process in Mali.\n"
    )
    for command in (
        ["migrate", "--noinput", "-v", "0"],
        ["collectstatic", "--noinput", "-v", "0"],
        ["createsuperuser", "--noinput", "--username", "chief", "--email", "chief@example.org"],
        ["import_article", str(article), "--publish", "--user", "chief"],
    ):
        subprocess.run(
            [sys.executable, "manage.py", *command], env=env, cwd=PROJECT, check=True, stdout=subprocess.DEVNULL
        )
    server = Gunicorn(env)
    try:
        page, body = server.request("GET", "/articles/the-founding-of-minusma/")
        assert page.status == 200 and b"support the political process in Mali" in body
        assert "Set-Cookie" not in page.headers  # Nothing per reader on a public page.
        # nginx keeps its connections to gunicorn open: two requests on one connection.
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        try:
            for _ in range(2):
                connection.request("GET", "/articles/the-founding-of-minusma/", headers={"X-Forwarded-Proto": "https"})
                again = connection.getresponse()
                assert again.status == 200 and again.read() == body
                assert again.headers.get("Connection", "").lower() != "close"
        finally:
            connection.close()

        session = server.sign_in("chief")
        admin, body = server.request("GET", "/admin/", headers={"Cookie": f"sessionid={session}"})
        assert admin.status == 200 and b"chief" in body
        page, body = server.request("GET", "/admin/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
        form = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": token, "username": "chief", "password": factories.PASSWORD}
        )
        refused, _ = server.request(
            "POST",
            "/admin/login/",
            body=form,
            headers={"Content-Type": "application/x-www-form-urlencoded", "Origin": f"https://127.0.0.1:{server.port}"},
        )  # A token, but no CSRF cookie.
        assert refused.status == 403
    finally:
        server.stop()
