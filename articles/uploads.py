"""Staff-only replacements for django-markdownx's upload and preview endpoints.

The package's own views accept anonymous requests and trust the browser's file name and
content type. These answer at the same URL names: staff only, every image validated and
re-encoded by ``articles.images``, stored as a Figure that waits for moderation like any content.
"""
from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import images, moderation
from .markup import markdownify
from .models import Figure, PublicationState


def _staff_only(request):
    user = request.user
    if not (user.is_authenticated and user.is_active and user.is_staff and moderation.can_propose(user)):
        return JsonResponse({"error": _("Sign in as an editor to use the editor.")}, status=403)
    return None


@require_POST
def markdownx_preview(request):
    """The editor's live preview: exactly the renderer readers get."""
    denied = _staff_only(request)
    if denied:
        return denied
    return HttpResponse(markdownify(request.POST.get("content", "")), content_type="text/html; charset=utf-8")


@require_POST
def markdownx_upload(request):
    denied = _staff_only(request)
    if denied:
        return denied
    upload = request.FILES.get("image")
    if upload is None:
        return JsonResponse({"error": _("No image was received. Drop or paste a PNG, JPEG or WebP image.")}, status=400)
    try:
        normalised = images.normalise_image(upload)
    except ValidationError as error:
        return JsonResponse({"error": " ".join(error.messages)}, status=400)
    stem = get_valid_filename(upload.name.rsplit(".", 1)[0]) or "figure"
    figure = Figure(alt_text=stem.replace("_", " ")[:300], state=PublicationState.DRAFT)
    figure.image.save(normalised.as_content_file(stem).name, normalised.as_content_file(stem), save=False)
    figure.save()
    moderation.propose(
        obj=figure, author=request.user, action="create",
        summary=_("Image uploaded from the editor: %(name)s") % {"name": stem},
    )
    alt = figure.alt_text.replace("[", "").replace("]", "")
    return JsonResponse({"image_code": f"![{alt}]({figure.image.url})", "figure_id": figure.pk})
