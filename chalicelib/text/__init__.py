"""Text people read: languages and catalogs, every sentence the code says, dates, the Jinja environment."""
