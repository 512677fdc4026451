"""OGC API Records: the catalogue's search, records, pygeoapi provider and exports."""
