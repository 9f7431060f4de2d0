"""``{% article_sections %}`` and ``{% article_contents %}``: the article template's long loops,
written out by articles.reading.article_body for the live page, a version and a preview alike."""

from django import template

from articles.reading import article_body

register = template.Library()


@register.simple_tag(takes_context=True)
def article_sections(context, sections):
    """Live sections get edit links for signed-in editors (not in a preview; saving brings the
    editor back here) and correction links (not on a version)."""
    preview = bool(context.get("preview_revision"))
    request = context.get("request")
    return article_body.sections_html(
        sections,
        article_slug=context["article"].slug,
        edit_links=bool(context.get("can_edit")) and not preview,
        return_to=request.path if request is not None else "",
        suggest_links=not preview and not context.get("version"),
    )


@register.simple_tag(takes_context=True)
def article_contents(context, sections):
    return article_body.contents_html(
        sections,
        has_notes=bool(context.get("notes_html")),
        has_bibliography=bool(context.get("bibliography_html") or context.get("bibliography")),
    )
