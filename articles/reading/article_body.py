"""The sections and the table of contents of an article page, written out in Python.

The article template once looped over the sections itself; Django's template engine then spent
about half a millisecond a section on the loop's tags, translations and URL reversals, most of
an uncached article's request. Here each label is translated and each address reversed once a
page, and a section costs a few string operations. The HTML is the one the template wrote.

Sections are live ``Section`` rows (``.pk``; edit and correction links) or a frozen version's
``VersionSection`` (no links): both have ``anchor``, ``title``, ``level``, ``html`` and
``topic_list``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from urllib.parse import quote

from django.urls import NoReverseMatch, reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from articles.content import languages
from articles.publishing import fragments

_PLACEHOLDER = "0000placeholder0000"


def _address(viewname: str, *args: str) -> Callable[..., str]:
    """``viewname``'s address with its last argument filled in later: one reversal a page."""
    template = reverse(viewname, args=[*args, _PLACEHOLDER])
    return lambda value: template.replace(_PLACEHOLDER, str(value))


class _Labels:
    """The interface words of a section, translated once, with the page's ``lang`` attributes."""

    def __init__(self) -> None:
        self.content_attr, self.interface_attr = languages.lang_attributes()
        self.link_to_section = gettext("Link to section “%(title)s”")
        self.edit = gettext('Edit<span class="visually-hidden"> section “%(title)s”</span>')
        self.edit_title = escape(gettext("Editors: propose a change to this section"))
        self.suggest = gettext('Suggest a correction<span class="visually-hidden"> to “%(title)s”</span>')
        self.topics = gettext("Topics")

    def content(self, title_html: str) -> str:
        """A title inside interface text (``as_content``)."""
        if not self.content_attr:
            return title_html
        return f"<span{self.content_attr}>{title_html}</span>"


def sections_html(
    sections: Sequence, *, article_slug: str, edit_links: bool, suggest_links: bool, return_to: str = ""
) -> SafeString:
    """Every section of the page: heading, anchor link, body, topics, edit and correction links.

    An edit link brings the editor back to ``return_to`` (the page's path) at the section once saved.
    """
    if not sections:
        return mark_safe("")
    labels = _Labels()
    ia = labels.interface_attr
    topic_url = _address("articles:topic_detail")
    edit_url = _address("admin:articles_section_change") if edit_links else None
    try:
        suggest_url = _address("articles:suggest_correction", article_slug) if suggest_links else None
    except NoReverseMatch:  # an article whose slug the correction address does not take
        suggest_url = None
    parts = []
    for section in sections:
        anchor = escape(section.anchor)
        title = escape(section.title)
        in_title = {"title": labels.content(title)}
        tag = "h3" if section.level == 3 else "h2"
        parts.append(
            f'<section id="{anchor}" class="article-section level-{section.level}" aria-labelledby="{anchor}-title">\n'
            f'<div class="section-heading">\n'
            f'<{tag} id="{anchor}-title">{title}</{tag}>\n'
            f'<a class="heading-anchor" href="#{anchor}"><span aria-hidden="true">#</span>'
            f'<span class="visually-hidden"{ia}>{labels.link_to_section % in_title}</span></a>\n'
        )
        pk = getattr(section, "pk", None)
        if edit_url and pk:
            back = escape(f"?next={quote(return_to, safe='')}%23{quote(section.anchor, safe='')}") if return_to else ""
            parts.append(
                f'<a class="edit-link" href="{edit_url(pk)}{back}" rel="nofollow" title="{labels.edit_title}"{ia}>'
                f"{labels.edit % in_title}</a>\n"
            )
        parts.append(f'</div>\n<div class="section-body prose">{fragments.in_page_language(section.html)}</div>\n')
        topics = section.topic_list
        if topics:
            links = "".join(f'<li><a href="{topic_url(topic.slug)}">{escape(topic.name)}</a></li>' for topic in topics)
            parts.append(
                f'<div class="section-topics">\n'
                f'<p class="section-topics-label" id="{anchor}-topics"{ia}>{labels.topics}</p>\n'
                f'<ul class="tag-list" aria-labelledby="{anchor}-topics">{links}</ul>\n</div>\n'
            )
        if suggest_url and pk:
            parts.append(
                f'<p class="suggest-link"{ia}><a href="{suggest_url(section.anchor)}" rel="nofollow">'
                f"{labels.suggest % in_title}</a></p>\n"
            )
        parts.append("</section>\n")
    return mark_safe("".join(parts))


def contents_html(sections: Sequence, *, has_notes: bool, has_bibliography: bool) -> SafeString:
    """The table of contents: subsections nested in their main section's entry."""
    content_attr, interface_attr = languages.lang_attributes()
    items = []
    open_sub = False
    for index, section in enumerate(sections):
        link = f'<a href="#{escape(section.anchor)}"{content_attr}>{escape(section.title)}</a>'
        if section.level == 3:
            if not open_sub:
                items.append("<li><ol>" if index == 0 else "<ol>")
                open_sub = True
            items.append(f"<li>{link}</li>")
            continue
        if open_sub:
            items.append("</ol></li>")
            open_sub = False
        elif index:
            items.append("</li>")
        items.append(f"<li>{link}")
    if sections:
        items.append("</ol></li>" if open_sub else "</li>")
    if has_notes:
        items.append(f'<li class="toc-back"><a href="#notes">{escape(gettext("Notes"))}</a></li>')
    if has_bibliography:
        items.append(f'<li class="toc-back"><a href="#bibliography">{escape(gettext("Bibliography"))}</a></li>')
    return mark_safe(
        f'<nav class="toc" aria-labelledby="toc-title"{interface_attr}>\n'
        f'<h2 id="toc-title">{escape(gettext("Contents"))}</h2>\n'
        f"<ol>\n{''.join(items)}\n</ol>\n</nav>"
    )
