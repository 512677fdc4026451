"""OGC API Features: items, one item, downloads, their SQL and the store they read."""
