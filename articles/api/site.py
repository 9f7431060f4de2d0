"""The API at ``/api/v1/``: reading published content, and proposing changes with a token (django-ninja).

``/api/v1/openapi.json`` is the OpenAPI document; ``/api/v1/docs`` shows it with Swagger UI, whose
files django-ninja ships and the site serves as its own static files: nothing is loaded from
another host. Errors are JSON ``{"detail": …}``; bad input adds ``"errors"``, each field's messages.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.utils.translation import gettext as _
from django.views.decorators.http import conditional_page
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError, Throttled
from ninja.errors import ValidationError as InputError

from articles.api import proposals, reading

DESCRIPTION = """
The published content of Mali History, and a way for editors' programs to propose changes.

**Reading** needs no account. Every list is paged (`?page=2&page_size=50`, at most 100 to a page);
every answer carries an `ETag`: send it back in `If-None-Match` and an unchanged answer is a
`304 Not Modified`. HTML fields are the site's own sanitised HTML, with links relative to the site.

**Proposing** needs a token (`Authorization: Bearer mh_…`): an editor makes one in the admin, under
*API tokens*. A proposal is not published: it waits in the moderators' review queue like an edit
made in the admin, and `GET /api/v1/proposals/{id}` says whether it was approved.
"""


api = NinjaAPI(
    title="Mali History API",
    version="1",
    description=DESCRIPTION,
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url="/docs",
    docs_decorator=conditional_page,  # ETags for the schema and its page too
    # The validator badge would fetch from validator.swagger.io: nothing may load from another host.
    docs=Swagger(settings={"validatorUrl": None, "defaultModelsExpandDepth": 0}),
)
api.add_router("/", reading.router)
api.add_router("/proposals", proposals.router)


def _problem(request: HttpRequest, status: int, detail: str, errors: dict | None = None) -> HttpResponse:
    body = {"detail": detail} if errors is None else {"detail": detail, "errors": errors}
    return api.create_response(request, body, status=status)


@api.exception_handler(InputError)
def input_error(request: HttpRequest, exc: InputError) -> HttpResponse:
    """JSON that does not fit the schema: 400, with a message for each field. An address that cannot
    name anything (``/sections/abc``, a key with a NUL) is simply not found."""
    if exc.errors and all(error.get("loc", ("",))[0] == "path" for error in exc.errors):
        return _problem(request, 404, _("Not found."))
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        location = [str(part) for part in error.get("loc", ()) if part not in ("body", "payload", "query", "path")]
        errors.setdefault(".".join(location) or "request", []).append(error.get("msg", ""))
    return _problem(request, 400, _("The request has errors."), errors)


@api.exception_handler(reading.Moved)
def moved(request: HttpRequest, exc: reading.Moved) -> HttpResponse:
    """An old slug: the same operation at the object's current address, like the public pages."""
    query = request.META.get("QUERY_STRING", "")
    return HttpResponsePermanentRedirect(f"{exc.url}?{query}" if query else exc.url)


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _problem(request, 404, _("Not found."))


@api.exception_handler(DjangoValidationError)
def validation_error(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    """Content the site refuses (an unknown citation key, raw HTML…): 400, nothing recorded."""
    if hasattr(exc, "error_dict"):
        return _problem(request, 400, _("The proposal has errors."), exc.message_dict)
    return _problem(request, 400, " ".join(exc.messages))


@api.exception_handler(AuthenticationError)
def authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = _problem(request, 401, _("Send a valid API token: “Authorization: Bearer <token>”."))
    response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


@api.exception_handler(PermissionDenied)
def permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return _problem(request, 403, str(exc) or _("You may not do this."))


@api.exception_handler(Throttled)
def throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
    response = _problem(request, 429, _("Too many proposals from this token: try again later."))
    if exc.wait is not None:
        response["Retry-After"] = str(int(exc.wait))
    return response
