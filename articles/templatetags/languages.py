"""Marking content and interface apart when their languages differ (articles.content.languages).

``{{ article.title|as_content }}`` inside interface text (a heading such as “History of …”) and
``{{ label|as_interface }}`` inside content: each becomes a ``<span lang="…">`` on a page whose
interface is in another language than the content, and stays plain text otherwise.

``{{ section.html|fragment }}`` shows stored HTML (sanitised when it was published) with the few
interface words it holds in the page's language (articles.publishing.fragments.in_page_language).
"""

from django import template
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe

from articles.content import languages
from articles.publishing import fragments

register = template.Library()


@register.filter(is_safe=True)
def as_content(value):
    content_attr, _interface_attr = languages.lang_attributes()
    if not content_attr:
        return conditional_escape(value)
    return format_html("<span{}>{}</span>", content_attr, value)


@register.filter(is_safe=True)
def as_interface(value):
    _content_attr, interface_attr = languages.lang_attributes()
    if not interface_attr:
        return conditional_escape(value)
    return format_html("<span{}>{}</span>", interface_attr, value)


@register.filter(is_safe=True)
def fragment(html):
    return mark_safe(fragments.in_page_language(html or ""))
