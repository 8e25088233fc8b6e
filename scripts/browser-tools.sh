#!/usr/bin/env bash
# Install what the console's browser test needs into .tools/browser (git-ignored),
# without touching the system: Debian's Chromium and the libraries this machine
# lacks for it (apt-get download + dpkg -x; no browser download from anywhere
# else), and Playwright's Python package in its own venv (pinned in
# scripts/requirements-browser.txt), which drives that Chromium by its path.
#
# Chromium is pinned to a major version of Debian's security-maintained package:
# Debian keeps only the newest build of it, so an exact pin would break each time
# a fix lands. When Debian moves to another major version this fails, saying so;
# check the console test with it and raise CHROMIUM_MAJOR.
set -euo pipefail
cd "$(dirname "$0")/.."
CHROMIUM_MAJOR=156
DIR=.tools/browser
ROOT="$DIR/root"
VENV="$DIR/venv"
STAMP="$DIR/.installed"
WANT="chromium-$CHROMIUM_MAJOR $(sha256sum scripts/requirements-browser.txt | cut -d' ' -f1)"

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" && -x "$DIR/chromium" && -x "$VENV/bin/python" ]]; then
  exit 0
fi
echo "==> installing the browser test's tools into $DIR" >&2
fail() { echo "ERROR: $*" >&2; exit 1; }
command -v apt-get >/dev/null || fail "apt-get is needed to fetch Debian's chromium package"
command -v dpkg >/dev/null || fail "dpkg is needed to unpack Debian's chromium package"

# apt's package lists (a fresh machine has none).
if ! apt-cache policy chromium 2>/dev/null | grep -q "Candidate: [0-9]"; then
  apt-get update -qq || fail "apt-get update failed (it needs root and the Debian mirror)"
fi
candidate=$(apt-cache policy chromium | awk '/Candidate:/ {print $2}')
[[ "$candidate" == "$CHROMIUM_MAJOR."* ]] \
  || fail "Debian's chromium is now $candidate, not $CHROMIUM_MAJOR.x: run the console test with it and raise CHROMIUM_MAJOR in $0"

# What this machine lacks for chromium (apt resolves it without installing).
mapfile -t packages < <(apt-get install --dry-run --no-install-recommends "chromium=$candidate" 2>/dev/null \
  | awk '/^Inst / {print $2}')
[[ " ${packages[*]} " == *" chromium "* ]] || packages+=(chromium chromium-common)
rm -rf "$ROOT" "$DIR/debs"
mkdir -p "$ROOT" "$DIR/debs"
( cd "$DIR/debs" && apt-get download -qq "${packages[@]}" ) || fail "apt-get download of ${packages[*]} failed"
for deb in "$DIR"/debs/*.deb; do
  dpkg -x "$deb" "$ROOT"
done
[[ -x "$ROOT/usr/lib/chromium/chromium" ]] || fail "the chromium package did not unpack a browser"
echo "$candidate" > "$DIR/CHROMIUM_VERSION"
# A launcher that finds the unpacked libraries (Playwright starts it by its path).
libdirs=$(find "$PWD/$ROOT" -name '*.so*' -printf '%h\n' | sort -u | paste -sd: -)
cat > "$DIR/chromium" <<LAUNCHER
#!/bin/sh
export LD_LIBRARY_PATH="$libdirs\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
exec "$PWD/$ROOT/usr/lib/chromium/chromium" "\$@"
LAUNCHER
chmod +x "$DIR/chromium"
"$DIR/chromium" --version >/dev/null || fail "the unpacked chromium does not start"

python3 -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check -r scripts/requirements-browser.txt
echo "$WANT" > "$STAMP"
echo "==> chromium $candidate and $(grep -v '^#' scripts/requirements-browser.txt | tr '\n' ' ')in $DIR" >&2
