"""Ingestion: scan, decode, detect sub-photos, index and watch an archive folder."""
