"""The old addresses of an article, topic or source, shown read-only on its change form.

Publishing keeps them (articles.models.addresses); readers asking for one are redirected to
the current address. Editors see them here so that they know a changed slug breaks no link.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.utils import translation
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _

from articles.models import RetiredSlug


class OldAddressesAdmin(admin.ModelAdmin):
    """Adds “Old addresses” beside the slug field, read-only."""

    def get_readonly_fields(self, request, obj=None):
        return (*super().get_readonly_fields(request, obj), "old_addresses")

    def get_fieldsets(self, request, obj=None):
        slug_field = self.model.SLUG_FIELD
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or not RetiredSlug.objects.of(obj).exists():
            return fieldsets
        return [
            (title, {**opts, "fields": [*opts["fields"], "old_addresses"]} if slug_field in opts["fields"] else opts)
            for title, opts in fieldsets
        ]

    @admin.display(description=_("Old addresses"))
    def old_addresses(self, obj):
        rows = list(RetiredSlug.objects.of(obj)) if obj is not None and obj.pk else []
        if not rows:
            return "—"
        model = type(obj)
        with translation.override(settings.LANGUAGE_CODE):  # the address as stored and cited, not the admin's
            urls = [model(**{model.SLUG_FIELD: row.slug}).get_absolute_url() for row in rows]
        items = format_html_join(
            "",
            '<li><a href="{}">{}</a> <span class="help">({})</span></li>',
            (
                (url, url, _("until %(date)s") % {"date": date_format(localtime(row.retired_at), "DATE_FORMAT")})
                for url, row in zip(urls, rows, strict=True)
            ),
        )
        return format_html(
            '<ul class="old-addresses">{}</ul><p class="help">{}</p>',
            items,
            _("Links to these addresses lead readers to the current one."),
        )
