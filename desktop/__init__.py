"""Imago desktop package."""
