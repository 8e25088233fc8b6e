#!/usr/bin/env bash
# The small static embedding model the tests and the offline default use: WordLlama's
# `l2_supercat_256` (MIT; 32,000 tokens × 256 dimensions, F16) with its tokenizer,
# as shipped in the PyPI wheel `wordllama==0.4.0.post1`. pip fetches the wheel; the
# two files are extracted into .tools/models/wordllama-l2-supercat-256/ in
# model2vec's folder layout and checked against their SHA-256. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=.tools/models/wordllama-l2-supercat-256
MODEL_SHA=64b47a2dc493cb8e85944076601189739852d7b64e0e1eedcb1937a251cd9fd5
TOKENIZER_SHA=93248f2a9ec36c7b35f700a033d5f36228aae48db61aee31007fa49062cdeb68
check() { echo "$1  $2" | sha256sum --check --status; }
if [[ -f "$DIR/model.safetensors" && -f "$DIR/tokenizer.json" ]] \
  && check "$MODEL_SHA" "$DIR/model.safetensors" && check "$TOKENIZER_SHA" "$DIR/tokenizer.json"; then
  exit 0
fi
echo "==> fetching the static embedding model into $DIR" >&2
DL=$(mktemp -d)
trap 'rm -rf "$DL"' EXIT
# The same wheel whatever the local Python: the files inside are data.
python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
  --python-version 3.11 --implementation cp --platform manylinux2014_x86_64 \
  -d "$DL" wordllama==0.4.0.post1
mkdir -p "$DIR"
python3 - "$DL" "$DIR" <<'PY'
import glob, sys, zipfile
wheel = glob.glob(f"{sys.argv[1]}/wordllama-*.whl")[0]
out = sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    for name, target in [
        ("wordllama/weights/l2_supercat_256.safetensors", "model.safetensors"),
        ("wordllama/tokenizers/l2_supercat_tokenizer_config.json", "tokenizer.json"),
        ("wordllama-0.4.0.post1.dist-info/licenses/LICENSE", "LICENSE"),
    ]:
        with z.open(name) as src, open(f"{out}/{target}", "wb") as dst:
            dst.write(src.read())
PY
echo '{"normalize": true}' > "$DIR/config.json"
check "$MODEL_SHA" "$DIR/model.safetensors" || { echo "model.safetensors: SHA-256 mismatch" >&2; exit 1; }
check "$TOKENIZER_SHA" "$DIR/tokenizer.json" || { echo "tokenizer.json: SHA-256 mismatch" >&2; exit 1; }
