#!/bin/sh
# Fetch the Gene Ontology that the go_relations task reads: Debian's r-bioc-go.db .deb is downloaded
# (apt-get download, no install: the package depends on R) and unpacked (dpkg-deb -x), and only its
# GO.sqlite is kept, at $MUBENCH_GO_DB (a file, or a folder to put GO.sqlite in), else
# ${MUBENCH_CACHE:-${XDG_CACHE_HOME:-~/.cache}}/mubench-hf/go/GO.sqlite, the place the task looks.
# The same as mubench_hf.tasks.go_relations.fetch_go_db(); a file already there is kept.
set -eu
if [ -n "${MUBENCH_GO_DB:-}" ]; then
  target=$MUBENCH_GO_DB
  [ -d "$target" ] && target=$target/GO.sqlite
else
  target=${MUBENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}}/mubench-hf/go/GO.sqlite
fi
if [ -f "$target" ]; then
  echo "$target"
  exit 0
fi
for tool in apt-get dpkg-deb; do
  command -v "$tool" >/dev/null || { echo "fetch_go_db: needs $tool (Debian/Ubuntu)" >&2; exit 1; }
done
mkdir -p "$(dirname "$target")"
scratch=$(mktemp -d "$(dirname "$target")/go-deb-XXXXXX")
trap 'rm -rf "$scratch"' EXIT
# apt's package lists may be missing on a fresh machine: as root, read them once and try again
(cd "$scratch" && { apt-get download -qq r-bioc-go.db 2>/dev/null \
  || { [ "$(id -u)" = 0 ] && apt-get update -qq && apt-get download -qq r-bioc-go.db 2>/dev/null; }; } \
  && dpkg-deb -x r-bioc-go.db_*.deb x)
mv "$scratch/x/usr/lib/R/site-library/GO.db/extdata/GO.sqlite" "$target.partial"
mv "$target.partial" "$target"
echo "$target"
