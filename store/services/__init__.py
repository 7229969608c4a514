"""Services on top of storage: search, browse, facets, curation, duplicates, export/import, evaluation."""
