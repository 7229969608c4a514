"""Widgets of the main window: thumbnail grid, facets and details panels, status and notice panels."""
