"""Imago models package."""
