#!/usr/bin/env bash
# Fuzz every route of the OpenAPI document with schemathesis against a fresh local
# server, as a verified owner whose org paid for a plan: no answer may be a 5xx
# (`not_a_server_error`) or a status the document does not list
# (`status_code_conformance`). A fixed seed and a bounded example count keep the
# run short and repeatable; set SCHEMATHESIS_MAX_EXAMPLES / SCHEMATHESIS_SEED to
# explore further. Any failure to start, to sign up or to run fails loudly.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/tools.sh
ST=.tools/venv/bin/schemathesis
[[ -x "$ST" ]] || { echo "schemathesis is not installed in .tools/venv" >&2; exit 1; }

cargo build --quiet --bin skiff
SKIFF="${CARGO_TARGET_DIR:-target}/debug/skiff"
DATA=$(mktemp -d)
PORT=$(.tools/venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
SKIFF_ENV=dev SKIFF_LOG=warn SKIFF_PUBLIC_URL="$BASE" \
  "$SKIFF" serve --addr "127.0.0.1:$PORT" --data-dir "$DATA" 2>"$DATA/server.log" &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; rm -rf "$DATA"' EXIT
ready() { .tools/venv/bin/python -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$BASE/readyz" 2>/dev/null; }
for _ in $(seq 100); do
  ready && break
  kill -0 "$SERVER" 2>/dev/null || { cat "$DATA/server.log" >&2; echo "skiff did not start" >&2; exit 1; }
  sleep 0.2
done
ready || { echo "skiff is not ready at $BASE" >&2; exit 1; }

TOKEN=$(.tools/venv/bin/python scripts/schemathesis_owner.py "$BASE")
echo "==> schemathesis over $BASE/api/v1/openapi.json" >&2
"$ST" run "$BASE/api/v1/openapi.json" \
  --checks not_a_server_error,status_code_conformance \
  --header "Authorization: Bearer $TOKEN" \
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-25}" \
  --seed "${SCHEMATHESIS_SEED:-20261203}" \
  --workers 1 \
  "$@"
