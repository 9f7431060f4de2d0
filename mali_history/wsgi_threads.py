"""Django's WSGI handler served to an ASGI server, on a fixed pool of threads.

gunicorn's asgi worker parses HTTP and keeps connections alive on an event loop, at a fraction of
the cost of its threaded WSGI worker; cached pages are answered there without a thread
(``articles.front``). Everything else runs here, as under gunicorn's gthread worker: each
request in one of a few long-lived threads, each thread with its own persistent database
connection. Django's own ASGI handler starts a new thread for every request instead, which costs
more than a small page and would give every request thread a connection of its own.

A response goes back in one message when its body is small, and is streamed with back-pressure
(the thread waits for each chunk to be sent) when it is large. Request bodies are read whole
before the view runs, in memory up to ``SPOOL_SIZE`` and on disk beyond, and refused with 413
over ``max_body_size``.
"""
from __future__ import annotations

import asyncio
import logging
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from http import HTTPStatus

logger = logging.getLogger(__name__)

SPOOL_SIZE = 1024 * 1024
STREAM_THRESHOLD = 256 * 1024


class ClientDisconnected(Exception):
    pass


def wsgi_environ(scope: dict, body) -> dict:
    """The WSGI environ of an ASGI HTTP scope, as gunicorn's WSGI workers build it.

    Header names with an underscore are dropped: ``X_Forwarded_Proto`` would otherwise become
    ``HTTP_X_FORWARDED_PROTO`` and pass for the header the proxy sets.
    """
    root_path = scope.get("root_path", "").encode("utf-8").decode("latin-1")
    path = scope["path"].encode("utf-8").decode("latin-1")
    if root_path and path.startswith(root_path):
        path = path[len(root_path):]
    server_name, server_port = scope.get("server") or ("localhost", 80)
    environ = {
        "REQUEST_METHOD": scope["method"],
        "SCRIPT_NAME": root_path,
        "PATH_INFO": path,
        "QUERY_STRING": scope.get("query_string", b"").decode("latin-1"),
        "SERVER_NAME": server_name,
        "SERVER_PORT": str(server_port or 80),
        "SERVER_PROTOCOL": f"HTTP/{scope.get('http_version', '1.1')}",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scope.get("scheme", "http"),
        "wsgi.input": body,
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if client := scope.get("client"):
        environ["REMOTE_ADDR"], environ["REMOTE_PORT"] = client[0], str(client[1])
    for raw_name, raw_value in scope.get("headers", ()):
        name = raw_name.decode("latin-1")
        if "_" in name:
            continue
        key = name.upper().replace("-", "_")
        if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            key = f"HTTP_{key}"
        value = raw_value.decode("latin-1")
        if key in environ:
            value = f"{environ[key]}{'; ' if key == 'HTTP_COOKIE' else ','}{value}"
        environ[key] = value
    return environ


async def read_body(receive, max_size: int):
    """The request body as a file, or None if it is larger than ``max_size``."""
    body = tempfile.SpooledTemporaryFile(max_size=SPOOL_SIZE)
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            body.close()
            raise ClientDisconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > max_size:
            body.close()
            return None
        body.write(chunk)
        if not message.get("more_body", False):
            body.seek(0)
            return body


def encode_headers(headers) -> list[tuple[bytes, bytes]]:
    """WSGI's (name, value) strings as ASGI's lower-case byte pairs."""
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]


class WSGIOnThreads:
    """An ASGI application running ``wsgi_app`` on ``threads`` long-lived threads."""

    def __init__(self, wsgi_app, *, threads: int = 4, max_body_size: int = 64 * 1024 * 1024):
        self.wsgi_app = wsgi_app
        self.max_body_size = max_body_size
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="wsgi")

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            return await self._lifespan(receive, send)
        if scope["type"] != "http":
            raise ValueError(f"{scope['type']} connections are not served.")
        try:
            body = await read_body(receive, self.max_body_size)
        except ClientDisconnected:
            return
        if body is None:
            return await self._send_simple(send, HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
        environ = wsgi_environ(scope, body)
        loop = asyncio.get_running_loop()
        try:
            buffered = await loop.run_in_executor(self.executor, self._run, environ, send, loop)
        finally:
            body.close()
        if buffered is not None:
            start, content = buffered
            await send(start)
            await send({"type": "http.response.body", "body": content})

    def _run(self, environ, send, loop):
        """In a worker thread: the response whole, or None once it has been streamed."""
        head_only = environ["REQUEST_METHOD"] == "HEAD"
        started = {}

        def start_response(status, headers, exc_info=None):
            if exc_info and started.get("sent"):
                raise exc_info[1].with_traceback(exc_info[2])
            started["message"] = {"type": "http.response.start", "status": int(status[:3]),
                                  "headers": encode_headers(headers)}
            return lambda data: None  # The legacy write() callable; Django never uses it.

        def send_now(message):
            asyncio.run_coroutine_threadsafe(send(message), loop).result()

        result = self.wsgi_app(environ, start_response)
        chunks, size = [], 0
        try:
            for chunk in result:
                if not chunk or head_only:
                    continue
                chunks.append(chunk)
                size += len(chunk)
                if size >= STREAM_THRESHOLD:
                    if not started.get("sent"):
                        started["sent"] = True
                        send_now(started["message"])
                    send_now({"type": "http.response.body", "body": b"".join(chunks), "more_body": True})
                    chunks, size = [], 0
        finally:
            if hasattr(result, "close"):
                result.close()
        if started.get("sent"):
            send_now({"type": "http.response.body", "body": b"".join(chunks)})
            return None
        return started["message"], b"".join(chunks)

    @staticmethod
    async def _send_simple(send, status: HTTPStatus):
        body = f"{status.value} {status.phrase}\n".encode()
        await send({"type": "http.response.start", "status": status.value,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    async def _lifespan(self, receive, send):
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.executor.shutdown(wait=True)
                await send({"type": "lifespan.shutdown.complete"})
                return
