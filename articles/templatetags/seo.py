"""Page metadata in templates: absolute addresses, descriptions and escaped JSON-LD."""

import json

from django import template
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from articles.reading import metadata

register = template.Library()

# As django.utils.html.json_script: nothing in the data can end the script element or start a
# comment or character reference in it.
_JSON_ESCAPES = {ord("<"): "\\u003C", ord(">"): "\\u003E", ord("&"): "\\u0026"}


@register.simple_tag(takes_context=True)
def absolute_url(context, path):
    """``path`` as an absolute address on the host the page was asked for (as feeds and sitemaps do)."""
    request = context.get("request")
    return request.build_absolute_uri(path) if request is not None else path


@register.filter
def plain_summary(rendered_html, words=40):
    """Rendered HTML as plain text of at most ``words`` words, for descriptions (autoescaped once)."""
    return metadata.summary(rendered_html, int(words))


@register.filter(is_safe=True)
def json_ld(data):
    """``data`` (a dict, or a list of them) as ``<script type="application/ld+json">`` elements."""
    if not data:
        return ""
    items = data if isinstance(data, (list, tuple)) else [data]
    return mark_safe(
        "\n".join(
            format_html(
                '<script type="application/ld+json">{}</script>',
                mark_safe(json.dumps(item, cls=DjangoJSONEncoder, ensure_ascii=False).translate(_JSON_ESCAPES)),
            )
            for item in items
        )
    )


@register.simple_tag(takes_context=True)
def breadcrumb_json_ld(context, *trail):
    """BreadcrumbList JSON-LD for a trail given as name, path, name, path, …"""
    request = context.get("request")
    if request is None:
        return ""
    pairs = list(zip(trail[0::2], trail[1::2], strict=False))
    return json_ld(metadata.breadcrumb_list(request, pairs))
