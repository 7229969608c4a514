"""Dialogs and secondary windows: settings, failed files, errors, duplicates."""
