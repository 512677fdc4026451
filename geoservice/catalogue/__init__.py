"""The metadata catalogue: one entry per published collection (and other resources),
searchable by area, time, words and attributes, served as OGC API Records and exported
as DCAT-AP and ISO 19139."""
