"""The interface language: from the address on public pages, from the browser in the admin.

Public pages are in ``i18n_patterns`` with no prefix for English (``/articles/x/``) and one for
French (``/fr/articles/x/``). A page's language is part of its address, so the page cache, static
publishing and search engines see one page per language, and anonymous readers need no cookie or
session (which would make their pages uncacheable). The language switcher is plain links.

The admin is not prefixed. Django's ``LocaleMiddleware`` gives every unprefixed address the default
language once ``i18n_patterns(prefix_default_language=False)`` is used, so
``InterfaceLocaleMiddleware`` gives the admin the staff member's browser language instead.

Content (articles, topics, sources, events) is written in one language, the default one, and stays
in it whatever the interface's: templates mark it with ``lang`` (``content_language``), and it is
rendered at publish time in that language (``articles.publishing.publish``), so stored HTML does not
depend on who published it.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.urls import LocalePrefixPattern, Resolver404, URLResolver, get_resolver, reverse, translate_url
from django.utils import translation
from django.utils.functional import SimpleLazyObject
from django.utils.safestring import mark_safe


def content_language() -> str:
    """The language the content is written in."""
    return settings.LANGUAGE_CODE


def is_public_path(path_info: str, urlconf=None) -> bool:
    """Whether ``path_info`` is (or would be, if it existed) a language-prefixed public page."""
    if translation.get_language_from_path(path_info):
        return True
    for pattern in get_resolver(urlconf).url_patterns:
        if isinstance(pattern, URLResolver) and isinstance(pattern.pattern, LocalePrefixPattern):
            with translation.override(settings.LANGUAGE_CODE):
                try:
                    pattern.resolve(path_info.removeprefix("/"))
                except Resolver404:
                    continue
            return True
    return False


class InterfaceLocaleMiddleware(LocaleMiddleware):
    """Public pages: the language of the address, and no ``Vary``. Elsewhere: the browser's."""

    def process_request(self, request):
        urlconf = getattr(request, "urlconf", None)
        request.is_public_path = is_public_path(request.path_info, urlconf)
        if request.is_public_path:
            return super().process_request(request)
        translation.activate(translation.get_language_from_request(request))
        request.LANGUAGE_CODE = translation.get_language()

    def process_response(self, request, response):
        if getattr(request, "is_public_path", False):
            # The address alone decides the language: a Vary header would only stop the page
            # cache (articles.publishing.caching) from keeping the page.
            response.headers.setdefault("Content-Language", translation.get_language())
            return response
        return super().process_response(request, response)


def in_every_language(paths: Iterable[str]) -> set[str]:
    """Each public page path (given in the default language) with its twin in every language."""
    paths = set(paths)
    result = set(paths)
    with translation.override(settings.LANGUAGE_CODE):  # translate_url resolves in the active language
        for code, _name in settings.LANGUAGES:
            if code != settings.LANGUAGE_CODE:
                result.update(translate_url(path, code) for path in paths)
    return result


def localise_path(path: str) -> str:
    """A public page's path stored in the default language, as the same page in the active one."""
    language = translation.get_language()
    if not language or language == settings.LANGUAGE_CODE:
        return path
    with translation.override(settings.LANGUAGE_CODE):
        return translate_url(path, language)


def _language_links(request) -> list[dict]:
    """This page in each interface language: for the switcher and ``hreflang`` links."""
    current = translation.get_language()
    full_path = request.get_full_path()
    links = []
    for code, _name in settings.LANGUAGES:
        if request.resolver_match is not None:
            url = translate_url(full_path, code)
        else:  # An address that resolved to nothing (a 404): the other language's home page.
            with translation.override(code):
                url = reverse("articles:home")
        info = translation.get_language_info(code)
        links.append({"code": code, "name": info["name_local"], "url": url, "is_current": code == current})
    return links


def lang_attributes() -> tuple[str, str]:
    """`` lang="…"`` for content and for the interface, or empty strings while they are in one language.

    Only a page whose interface is in another language than its content needs to mark which is
    which; English pages stay as they were.
    """
    content = content_language()
    interface = translation.get_language() or content
    if interface == content:
        return "", ""
    return mark_safe(f' lang="{content}"'), mark_safe(f' lang="{interface}"')


def languages(request):
    """Context processor: ``content_language``, ``language_links`` and the two ``lang`` attributes.

    ``content_lang_attr`` goes on elements that hold content (a title, a text), and
    ``interface_lang_attr`` on interface text inside them; see ``lang_attributes``.
    """
    content_attr, interface_attr = lang_attributes()
    return {
        "content_language": content_language(),
        "content_lang_attr": content_attr,
        "interface_lang_attr": interface_attr,
        "language_links": SimpleLazyObject(lambda: _language_links(request)),
    }
