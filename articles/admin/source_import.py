"""Citations in: the "Import citations" page of the source list.

An editor uploads a BibTeX, RIS or CSL-JSON file (a Zotero export, say); every new entry becomes
a proposal of a new source for moderators to review, and entries the site already has are
listed and skipped (articles.revisions.source_import does the work).
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from articles.content.citation_parsing import CitationFileError
from articles.revisions import source_import


class CitationFileForm(forms.Form):
    file = forms.FileField(
        label=_("Citation file"),
        help_text=_(
            "BibTeX (.bib), RIS (.ris) or CSL-JSON (.json), as Zotero and other reference managers export them. At most 1 MB."
        ),
    )
    summary = forms.CharField(
        label=_("Edit summary"),
        max_length=300,
        required=False,
        help_text=_("Shown to moderators with each proposal. Leave empty for “Imported from” and the file's name."),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > source_import.MAX_FILE_SIZE:
            raise forms.ValidationError(_("The file is larger than 1 MB."))
        try:
            self.references = source_import.read_file(upload.name, upload.read())
        except CitationFileError as error:
            raise forms.ValidationError(error.problems) from None
        return upload


class SourceImportMixin:
    """Adds ``import/`` to the source admin, for staff who may add sources."""

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path("import/", self.admin_site.admin_view(self.import_view), name="%s_%s_import" % info),
        ] + super().get_urls()

    def import_view(self, request):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = CitationFileForm(request.POST or None, request.FILES or None)
        result = None
        if request.method == "POST" and form.is_valid():
            summary = form.cleaned_data["summary"].strip() or _("Imported from %(name)s") % {
                "name": form.cleaned_data["file"].name[:200]
            }
            try:
                result = source_import.import_sources(author=request.user, references=form.references, summary=summary)
            except CitationFileError as error:
                for problem in error.problems:
                    form.add_error("file", problem)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Import citations"),
            "form": form,
            "result": result,
        }
        return TemplateResponse(
            request, "admin/articles/source/import.html", context, status=400 if form.errors else 200
        )
