"""The main window's controllers: each owns one concern and talks to the others only through signals
that the window connects (they never import each other; an import-linter contract checks it)."""
