#!/usr/bin/env bash
# Install the pinned test tools, once: moto, cfn-lint and schemathesis into
# .tools/venv, the MCP client library into .tools/mcp-venv, the static embedding
# model into .tools/models.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.tools/venv
STAMP="$VENV/.requirements.sha256"
WANT=$(sha256sum scripts/requirements-dev.txt | cut -d' ' -f1)
if ! [[ -x "$VENV/bin/python" && -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" ]]; then
  echo "==> installing test tools into $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r scripts/requirements-dev.txt
  echo "$WANT" > "$STAMP"
fi

# The MCP client library, in its own venv (it pins its own dependencies).
MCP_VENV=.tools/mcp-venv
MCP_STAMP="$MCP_VENV/.requirements.sha256"
MCP_WANT=$(sha256sum scripts/requirements-mcp.txt | cut -d' ' -f1)
if ! [[ -x "$MCP_VENV/bin/python" && -f "$MCP_STAMP" && "$(cat "$MCP_STAMP")" == "$MCP_WANT" ]]; then
  echo "==> installing the MCP client library into $MCP_VENV" >&2
  python3 -m venv "$MCP_VENV"
  "$MCP_VENV/bin/pip" install --quiet --disable-pip-version-check -r scripts/requirements-mcp.txt
  echo "$MCP_WANT" > "$MCP_STAMP"
fi

# The static embedding model (checked by SHA-256).
scripts/fetch_model.sh
