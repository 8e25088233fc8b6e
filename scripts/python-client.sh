#!/usr/bin/env bash
# The Python client (clients/python): its generated part `skiff_api` comes from
# openapi.json through the pinned openapi-python-client; the seat session
# (`skiff_client`) is written by hand.
#
#   scripts/python-client.sh generate   rewrite clients/python/skiff_api
#   scripts/python-client.sh check      fail when the checked-in package is stale
#   scripts/python-client.sh test       check, then pytest against a fresh `skiff serve`
#                                       (SKIFF_BIN, else the debug build)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.tools/pyclient-venv
STAMP="$VENV/.requirements.sha256"
WANT=$(sha256sum scripts/requirements-pyclient.txt | cut -d' ' -f1)
if ! [[ -x "$VENV/bin/python" && -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" ]]; then
  echo "==> installing the Python client's tools into $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r scripts/requirements-pyclient.txt
  echo "$WANT" > "$STAMP"
fi
export PATH="$PWD/$VENV/bin:$PATH" RUFF_NO_CACHE=true

generate_into() {
  local out=$1
  rm -rf "$out"
  openapi-python-client generate --path openapi.json --meta none \
    --config clients/python/generator.yaml --output-path "$out" >/dev/null
}

case "${1:-test}" in
  generate)
    generate_into clients/python/skiff_api
    ;;
  check|test)
    TMP=$(mktemp -d)
    trap 'rm -rf "$TMP"' EXIT
    generate_into "$TMP/skiff_api"
    if ! diff -r -x __pycache__ "$TMP/skiff_api" clients/python/skiff_api >/dev/null; then
      diff -r -x __pycache__ "$TMP/skiff_api" clients/python/skiff_api | head -40 >&2 || true
      echo "clients/python/skiff_api is stale: run scripts/python-client.sh generate" >&2
      exit 1
    fi
    if [[ "${1:-test}" == test ]]; then
      SKIFF_BIN="${SKIFF_BIN:-${CARGO_TARGET_DIR:-target}/debug/skiff}"
      [[ -x "$SKIFF_BIN" ]] || cargo build --quiet --bin skiff
      SKIFF_BIN="$SKIFF_BIN" PYTHONPATH=clients/python PYTHONDONTWRITEBYTECODE=1 \
        "$VENV/bin/python" -m pytest -q -p no:cacheprovider clients/python/tests
    fi
    ;;
  *)
    echo "usage: $0 generate|check|test" >&2
    exit 2
    ;;
esac
