#!/usr/bin/env bash
# Re-fetch the web viewer's JavaScript/CSS (and the Natural Earth base layer) from the npm registry,
# reproducibly: each package is pinned by version AND by the sha256 of its `npm pack` tarball, and
# only the files the server serves (plus the licence) are copied into
#   cubeserver/static/vendor/<name>-<version>/
# Run from the repository root:  tools/vendor_assets.sh     (needs npm and python3; no node_modules)
# To upgrade a library: change its version, run once, copy the printed sha256 into PINS, commit.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
OUT="$ROOT/cubeserver/static/vendor"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

# name version sha256-of-tarball  files-to-copy (relative to the package root)
PINS=(
  "leaflet 1.9.4 84c65a256e50657896f54c33bd857b6849ebe94c817803be818bf32a3dde0b77 LICENSE dist/leaflet.js dist/leaflet.css dist/images/layers.png dist/images/layers-2x.png dist/images/marker-icon.png dist/images/marker-icon-2x.png dist/images/marker-shadow.png"
  "swagger-ui-dist 5.35.0 1b8e891893404ea4c3558b6a87e2a3e494e7eedba41168c2ece5800a391a6ea6 LICENSE NOTICE swagger-ui-bundle.js swagger-ui-bundle.js.LICENSE.txt swagger-ui.css favicon-32x32.png"
  "uplot 1.6.32 4b8a8191e425658e3ea8c8c1314b0fc679c861ee3a1af2b20c7b16ba50b5133d LICENSE dist/uPlot.iife.min.js dist/uPlot.min.css"
  "world-atlas 2.0.2 032e7765f2ce00edaeafec23ff22bc3b77e42987c257da944cc585b452c05b97 LICENSE countries-110m.json"
)

for line in "${PINS[@]}"; do
  read -r name version sum files <<<"$line"
  (cd "$TMP" && npm pack "$name@$version" --silent >/dev/null)
  tgz="$TMP/$name-$version.tgz"
  got="$(sha256sum "$tgz" | cut -d' ' -f1)"
  if [[ "$got" != "$sum" ]]; then
    echo "checksum mismatch for $name@$version: expected $sum, got $got" >&2
    exit 1
  fi
  mkdir -p "$TMP/$name" && tar xzf "$tgz" -C "$TMP/$name"
  if [[ "$name" == "world-atlas" ]]; then
    # not served as is: converted once to the GeoJSON Features collection datasets/ne_110m_countries.geojson
    python3 "$ROOT/tools/topojson_to_geojson.py" "$TMP/$name/package/countries-110m.json" countries \
      "$ROOT/datasets/ne_110m_countries.geojson"
    cp "$TMP/$name/package/LICENSE" "$ROOT/datasets/ne_110m_countries.LICENSE-world-atlas.txt"
    echo "world-atlas@$version -> datasets/ne_110m_countries.geojson"
    continue
  fi
  dest="$OUT/$name-$version"
  rm -rf "$dest" && mkdir -p "$dest"
  for f in $files; do
    mkdir -p "$dest/$(dirname "$f")"
    cp "$TMP/$name/package/$f" "$dest/$f"
  done
  echo "$name@$version ($got) -> ${dest#$ROOT/}"
done
