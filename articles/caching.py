"""Cache invalidation for public pages.

Public pages are cached under a site-wide content generation. Publishing anything bumps the
generation, so the next anonymous request renders afresh: a publish is visible at once, in
every process, because the generation lives in the shared cache.
"""
from django.core.cache import cache

GENERATION_KEY = "public-content-generation"


def content_generation() -> int:
    generation = cache.get(GENERATION_KEY)
    if generation is None:
        cache.add(GENERATION_KEY, 1, timeout=None)
        generation = cache.get(GENERATION_KEY, 1)
    return generation


def content_changed(obj=None) -> None:
    """Called after anything public changed."""
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:
        cache.set(GENERATION_KEY, 2, timeout=None)
