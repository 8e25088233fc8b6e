#!/usr/bin/env bash
# Run a command with a fresh moto emulator and a local SMTP server: exports
# SKIFF_TEST_AWS_ENDPOINT and SKIFF_TEST_SMTP_* (address, received-mail directory,
# the one user and password it accepts), stops both afterwards. Fails loudly if
# either cannot start.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/tools.sh
WORK=$(mktemp -d)
PORT_FILE="$WORK/port"
.tools/venv/bin/python scripts/moto_server.py "$PORT_FILE" >"$WORK/moto.log" 2>&1 &
MOTO_PID=$!
SMTP_PID=""
cleanup() {
  kill "$MOTO_PID" 2>/dev/null || true; wait "$MOTO_PID" 2>/dev/null || true
  if [[ -n "$SMTP_PID" ]]; then kill "$SMTP_PID" 2>/dev/null || true; wait "$SMTP_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
# Wait (30 s at most) for a server started in the background to write its port.
await_port_file() {
  local name=$1 pid=$2 file=$3 log=$4
  for _ in $(seq 1 150); do
    [[ -s "$file" ]] && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "ERROR: $name exited while starting:" >&2
      cat "$log" >&2
      exit 1
    fi
    sleep 0.2
  done
  echo "ERROR: $name did not start within 30 s" >&2
  cat "$log" >&2
  exit 1
}
await_port_file "the AWS emulator (moto)" "$MOTO_PID" "$PORT_FILE" "$WORK/moto.log"
export SKIFF_TEST_AWS_ENDPOINT="http://127.0.0.1:$(cat "$PORT_FILE")"
echo "==> AWS emulator at $SKIFF_TEST_AWS_ENDPOINT" >&2

# The SMTP server the mail conformance suite sends to.
SMTP_PORT_FILE="$WORK/smtp.port"
export SKIFF_TEST_SMTP_DIR="$WORK/smtp-received"
export SKIFF_TEST_SMTP_USER="skiff-test"
SKIFF_TEST_SMTP_PASSWORD="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
export SKIFF_TEST_SMTP_PASSWORD
SMTP_TEST_USER="$SKIFF_TEST_SMTP_USER" SMTP_TEST_PASSWORD="$SKIFF_TEST_SMTP_PASSWORD" \
  .tools/venv/bin/python scripts/smtp_server.py "$SMTP_PORT_FILE" "$SKIFF_TEST_SMTP_DIR" >"$WORK/smtp.log" 2>&1 &
SMTP_PID=$!
await_port_file "the test SMTP server" "$SMTP_PID" "$SMTP_PORT_FILE" "$WORK/smtp.log"
export SKIFF_TEST_SMTP_ADDR="127.0.0.1:$(cat "$SMTP_PORT_FILE")"
echo "==> SMTP server at $SKIFF_TEST_SMTP_ADDR" >&2
"$@"
