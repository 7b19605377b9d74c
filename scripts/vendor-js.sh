#!/usr/bin/env bash
# Refresh the page's vendored ES modules from npm, at the pinned versions below, into
# static/vendor/<name>/ with their licences. No bundler: each is the package's own ES-module
# build, copied byte for byte; static/vendor/VERSIONS records what was copied and its sha256.
set -euo pipefail
cd "$(dirname "$0")/.."

MARKED=marked@18.3.0
DOMPURIFY=dompurify@3.5.0
HIGHLIGHT=@highlightjs/cdn-assets@11.12.0

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "$MARKED" "$DOMPURIFY" "$HIGHLIGHT" >/dev/null)
for tgz in "$work"/*.tgz; do
  mkdir -p "${tgz%.tgz}" && tar xzf "$tgz" -C "${tgz%.tgz}"
done

copy() {  # package-folder file-in-package target-folder target-name
  local src="$work/$1/package"
  mkdir -p "static/vendor/$3"
  cp "$src/$2" "static/vendor/$3/$4"
  cp "$src/LICENSE" "static/vendor/$3/LICENSE"
}
copy "marked-${MARKED#*@}" lib/marked.esm.js marked marked.esm.js
copy "dompurify-${DOMPURIFY#*@}" dist/purify.es.mjs dompurify purify.es.mjs
copy "highlightjs-cdn-assets-${HIGHLIGHT##*@}" es/highlight.min.js highlight highlight.min.js

{
  echo "# Written by scripts/vendor-js.sh: npm package, file, sha256."
  echo "$MARKED marked/marked.esm.js $(sha256sum static/vendor/marked/marked.esm.js | cut -d' ' -f1)"
  echo "$DOMPURIFY dompurify/purify.es.mjs $(sha256sum static/vendor/dompurify/purify.es.mjs | cut -d' ' -f1)"
  echo "$HIGHLIGHT highlight/highlight.min.js $(sha256sum static/vendor/highlight/highlight.min.js | cut -d' ' -f1)"
} > static/vendor/VERSIONS
