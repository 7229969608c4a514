#!/bin/sh
# Nautilus script (right-click > Scripts > Find similar in Imago): the first selected image.
# Nautilus passes the selection as newline-separated paths; only local files are supported.
first="$(printf '%s\n' "$NAUTILUS_SCRIPT_SELECTED_FILE_PATHS" | sed -n '/./{p;q}')"
[ -n "$first" ] || first="$1"
[ -n "$first" ] || exit 0
exec imago --find-similar "$first"
