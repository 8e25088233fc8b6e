#!/usr/bin/env bash
# Vendor the console's charting library (uPlot, MIT) from the npm registry into
# functions/admin/console/vendor/, with its licence. The files are committed and
# built into the admin binary: nothing is fetched at build or run time, and no CDN
# is used. Run it again only to move to another pinned version (then update
# UPLOT_VERSION and the expected integrity below, and check the result).
set -euo pipefail
cd "$(dirname "$0")/.."
UPLOT_VERSION=1.6.32
# The pinned tarball's integrity (npm view uplot@$UPLOT_VERSION dist.integrity).
EXPECTED_INTEGRITY="${EXPECTED_INTEGRITY:-sha512-KIMVnG68zvu5XXUbC4LQEPnhwOxBuLyW1AHtpm6IKTXImkbLgkMy+jabjLgSLMasNuGGzQm/ep3tOkyTxpiQIw==}"
OUT=functions/admin/console/vendor
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
( cd "$WORK" && npm pack --silent "uplot@$UPLOT_VERSION" >/dev/null )
TGZ="$WORK/uplot-$UPLOT_VERSION.tgz"
GOT="sha512-$(openssl dgst -sha512 -binary "$TGZ" | base64 -w0)"
WANT=$(npm view "uplot@$UPLOT_VERSION" dist.integrity)
if [[ "$GOT" != "$WANT" ]]; then
  echo "ERROR: uplot-$UPLOT_VERSION.tgz does not match the registry's integrity ($GOT vs $WANT)" >&2
  exit 1
fi
if [[ -n "$EXPECTED_INTEGRITY" && "$GOT" != "$EXPECTED_INTEGRITY" ]]; then
  echo "ERROR: uplot-$UPLOT_VERSION.tgz is not the pinned build ($GOT)" >&2
  exit 1
fi
tar -xzf "$TGZ" -C "$WORK"
mkdir -p "$OUT"
cp "$WORK/package/dist/uPlot.iife.min.js" "$OUT/uPlot.iife.min.js"
cp "$WORK/package/dist/uPlot.min.css" "$OUT/uPlot.min.css"
cp "$WORK/package/LICENSE" "$OUT/uPlot.LICENSE"
{
  echo "uPlot $UPLOT_VERSION from the npm registry (uplot@$UPLOT_VERSION), MIT licence: uPlot.LICENSE."
  echo "Tarball integrity: $GOT"
  echo "Vendored by scripts/vendor-console.sh. SHA-256 of each file:"
  ( cd "$OUT" && sha256sum uPlot.iife.min.js uPlot.min.css uPlot.LICENSE )
} > "$OUT/VENDOR.txt"
echo "vendored uPlot $UPLOT_VERSION into $OUT" >&2
