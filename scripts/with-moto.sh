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

# The SMTP server the mail conformance suite sends to.
SMTP_PORT_FILE="$WORK/smtp.port"
export SKIFF_TEST_SMTP_DIR="$WORK/smtp-received"
export SKIFF_TEST_SMTP_USER="skiff-test"
SKIFF_TEST_SMTP_PASSWORD="$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
export SKIFF_TEST_SMTP_PASSWORD
SMTP_TEST_USER="$SKIFF_TEST_SMTP_USER" SMTP_TEST_PASSWORD="$SKIFF_TEST_SMTP_PASSWORD" \
  .tools/venv/bin/python scripts/smtp_server.py "$SMTP_PORT_FILE" "$SKIFF_TEST_SMTP_DIR" >"$WORK/smtp.log" 2>&1 &
SMTP_PID=$!
for _ in $(seq 1 100); do
  [[ -s "$SMTP_PORT_FILE" ]] && break
  if ! kill -0 "$SMTP_PID" 2>/dev/null; then
    echo "ERROR: the test SMTP server exited while starting:" >&2
    cat "$WORK/smtp.log" >&2
    exit 1
  fi
  sleep 0.1
done
if [[ ! -s "$SMTP_PORT_FILE" ]]; then
  echo "ERROR: the test SMTP server did not start within 10 s" >&2
  cat "$WORK/smtp.log" >&2
  exit 1
fi
export SKIFF_TEST_SMTP_ADDR="127.0.0.1:$(cat "$SMTP_PORT_FILE")"
echo "==> SMTP server at $SKIFF_TEST_SMTP_ADDR" >&2
"$@"
