#!/usr/bin/env bash
# Install the pinned Python tools (moto, cfn-lint, schemathesis) into .tools/venv, once.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.tools/venv
STAMP="$VENV/.requirements.sha256"
WANT=$(sha256sum scripts/requirements-dev.txt | cut -d' ' -f1)
if [[ -x "$VENV/bin/python" && -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" ]]; then
  exit 0
fi
echo "==> installing test tools into $VENV" >&2
python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check -r scripts/requirements-dev.txt
echo "$WANT" > "$STAMP"
