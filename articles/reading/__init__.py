"""The public site: views, URLs, feeds, sitemaps, search and page metadata."""
