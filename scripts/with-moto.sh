#!/usr/bin/env bash
# Run a command with a fresh moto emulator: exports SKIFF_TEST_AWS_ENDPOINT, stops
# the emulator afterwards. Fails loudly if the emulator cannot start.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/tools.sh
WORK=$(mktemp -d)
PORT_FILE="$WORK/port"
.tools/venv/bin/python scripts/moto_server.py "$PORT_FILE" >"$WORK/moto.log" 2>&1 &
MOTO_PID=$!
cleanup() { kill "$MOTO_PID" 2>/dev/null || true; wait "$MOTO_PID" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
for _ in $(seq 1 150); do
  [[ -s "$PORT_FILE" ]] && break
  if ! kill -0 "$MOTO_PID" 2>/dev/null; then
    echo "ERROR: the AWS emulator (moto) exited while starting:" >&2
    cat "$WORK/moto.log" >&2
    exit 1
  fi
  sleep 0.2
done
if [[ ! -s "$PORT_FILE" ]]; then
  echo "ERROR: the AWS emulator (moto) did not start within 30 s" >&2
  cat "$WORK/moto.log" >&2
  exit 1
fi
export SKIFF_TEST_AWS_ENDPOINT="http://127.0.0.1:$(cat "$PORT_FILE")"
echo "==> AWS emulator at $SKIFF_TEST_AWS_ENDPOINT" >&2
"$@"
