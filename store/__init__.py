"""Imago store package."""
