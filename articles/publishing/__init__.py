"""From a published revision to what readers get: the object's own stored fragments, pages put
together from them, what each object appears on, the page cache, static pages and the
background follow-up.

Uses content and models; never revisions, reading or admin.
"""
