"""Staff-only replacement for django-markdownx's upload endpoint (the preview: ``articles.admin.preview``).

The package's own views accept anonymous requests and trust the browser's file name and
content type. These answer at the same URL names: staff only, every image validated and
re-encoded by ``articles.content.images``, stored as a Figure that waits for moderation like any content.

``pending_figure_image`` shows staff the uploads that wait for approval, which readers cannot reach
(articles.content.figure_files).

The upload endpoint answers in a form the editor script (``static/articles/admin/markdown-editor.js``) can show
as it is: JSON with either ``image_code`` or a readable ``error``.
"""

from django.core.exceptions import SuspiciousFileOperation, ValidationError
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponseRedirect, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from articles.content import figure_files, images
from articles.models import Figure, PublicationState
from articles.revisions import moderation


def _staff_only(request):
    user = request.user
    if not (user.is_authenticated and user.is_active and user.is_staff and moderation.can_propose(user)):
        return JsonResponse({"error": _("Sign in as an editor to use the editor.")}, status=403)
    return None


@transaction.atomic
def figure_upload(*, upload, author) -> Figure:
    """Store an editor's dropped or pasted image as a draft Figure with a pending "create" proposal.

    Raises ValidationError with an editor-readable message when the file is refused.
    """
    normalised = images.normalise_image(upload)
    # The browser's name is only a hint for the stored name: the extension always comes from the
    # detected format, and an empty or dotted name ("..png") is harmless. It is never the alt text,
    # which someone must write: the figure cannot be approved without it (publish.check_publishable).
    stem = images.safe_stem(getattr(upload, "name", ""))
    figure = Figure(alt_text="", state=PublicationState.DRAFT)
    content = normalised.as_content_file(stem)
    figure.image.save(content.name, content, save=False)
    stored_name = figure.image.name
    # The file is written before the rows: if they are not stored, neither is the file.
    try:
        figure.save()
        moderation.propose(
            obj=figure,
            author=author,
            action="create",
            summary=_("Image uploaded from the editor: %(name)s") % {"name": stem},
        )
    except BaseException:
        figure.image.storage.delete(stored_name)
        raise
    return figure


@never_cache
@require_POST
def markdownx_upload(request):
    denied = _staff_only(request)
    if denied:
        return denied
    upload = request.FILES.get("image")
    if upload is None:
        return JsonResponse({"error": _("No image was received. Drop or paste a PNG, JPEG or WebP image.")}, status=400)
    try:
        figure = figure_upload(upload=upload, author=request.user)
    except ValidationError as error:
        return JsonResponse({"error": " ".join(error.messages)}, status=400)
    alt = figure.alt_text.replace("[", "").replace("]", "")
    return JsonResponse({"image_code": f"![{alt}]({figure.image.url})", "figure_id": figure.pk})


CONTENT_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp"}


@never_cache
def pending_figure_image(request, name):
    """An uploaded image waiting for approval, for staff who may view figures; 404 for anyone else.

    Not even a login redirect: for readers these files do not exist. Once the figure is approved
    the file is public, and this address sends staff there.
    """
    user = request.user
    if not (user.is_active and user.is_staff and user.has_perm("articles.view_figure")):
        raise Http404
    extension = name.rsplit(".", 1)[-1].lower()
    if not figure_files.is_upload_name(name) or extension not in CONTENT_TYPES:
        raise Http404
    try:
        if figure_files.public_storage().exists(name):
            return HttpResponseRedirect(figure_files.public_storage().url(name))
        private = figure_files.private_storage()
        if not private.exists(name):
            raise Http404
        stored = private.open(name, "rb")
    except SuspiciousFileOperation:
        raise Http404 from None
    response = FileResponse(stored, content_type=CONTENT_TYPES[extension])
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
