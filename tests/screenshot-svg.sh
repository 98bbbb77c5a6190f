#!/bin/sh
# screenshot-svg.sh - render SVG files in a real browser (headless Chromium)
# and save PNG screenshots beside them, to look at with an image viewer.
# Not part of make check (Chromium is large): run by hand or in CI.
#
#   tests/screenshot-svg.sh FILE.svg...        -> FILE.svg.png each
#
# Also checks that each file is well-formed XML (python3's xml parser).
# Debian: apt-get install chromium.  Exit status: 0 if every file parsed
# and rendered, 1 otherwise, 77 if Chromium is missing.
set -u
browser=""
for b in chromium chromium-browser google-chrome; do
  command -v "$b" >/dev/null 2>&1 && { browser=$b; break; }
done
[ -n "$browser" ] || { echo "SKIP: no chromium (apt-get install chromium)"; exit 77; }
py=${PYTHON3:-/usr/bin/python3}
status=0
for f in "$@"; do
  if ! "$py" -c 'import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.argv[1])' "$f"; then
    echo "NOT XML: $f"; status=1; continue
  fi
  profile=$(mktemp -d)
  abs=$(cd "$(dirname "$f")" && pwd)/$(basename "$f")
  timeout 60 "$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --no-first-run --user-data-dir="$profile" \
    --screenshot="$abs.png" --window-size=1000,700 "file://$abs" >/dev/null 2>&1
  rm -rf "$profile"
  if [ -s "$abs.png" ]; then echo "rendered $f -> $f.png"; else echo "FAILED: $f"; status=1; fi
done
exit $status
