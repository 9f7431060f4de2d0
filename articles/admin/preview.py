"""The Markdown editor's live preview, answered at django-markdownx's URL name.

The editor script (``static/articles/admin/markdown-editor.js``) posts the text and, when it
knows them, the section or article the text belongs to; the answer is a whole page with the
public stylesheet, shown in a frame so that neither stylesheet touches the other. Sections and
introductions are numbered within their article (``articles.publishing.editor_preview``).
"""

from __future__ import annotations

import dataclasses

from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from articles.content import figure_files
from articles.models import Article, PublicationState, Section
from articles.publishing import editor_preview
from articles.revisions import moderation


def _object(request, model, name):
    """The section or article named by the request, if any; 400 for a malformed id, 403 without access."""
    value = request.POST.get(name, "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise ValueError(name)
    if not request.user.has_perm(f"articles.view_{model._meta.model_name}"):
        raise PermissionError(name)
    return get_object_or_404(model.objects.exclude(state=PublicationState.DELETED), pk=int(value))


@never_cache
@require_POST
def markdownx_preview(request):
    """The editor's live preview: the readers' renderer, stylesheet and note numbering."""
    user = request.user
    if not (user.is_authenticated and user.is_active and user.is_staff and moderation.can_propose(user)):
        return JsonResponse({"error": _("Sign in as an editor to use the editor.")}, status=403)
    try:
        section = _object(request, Section, "section")
        article = _object(request, Article, "article")
    except ValueError:
        return JsonResponse({"error": _("The preview was asked for an unknown section or article.")}, status=400)
    except PermissionError:
        return JsonResponse({"error": _("You may not see this section or article.")}, status=403)
    except Http404:
        return JsonResponse({"error": _("This section or article no longer exists.")}, status=404)
    if section is not None and article is not None and section.article_id != article.pk:
        return JsonResponse({"error": _("This section belongs to another article.")}, status=400)
    preview = editor_preview.preview_text(
        request.POST.get("content", ""),
        section=section,
        article=article,
        dek=request.POST.get("field") == "dek",
    )
    # Uploads waiting for approval are shown through the staff view (articles.content.figure_files).
    preview = dataclasses.replace(preview, html=figure_files.for_staff(preview.html))
    return TemplateResponse(
        request,
        "admin/articles/editor_preview.html",
        {"preview": preview, "article": section.article if section else article},
    )
