"""Running the site: backup and restore, importing and exporting articles, the demo content."""
