#!/usr/bin/env bash
# Cold start and size of the Lambda binaries: builds them in release, starts moto
# and runs the meter (tools/coldstart) over a bare lambda_http hello world and the
# functions; prints a markdown table (see docs/benchmarks.md). Arguments go to
# the meter (e.g. --runs 30).
#
# SKIFF_COLDSTART_BIN_DIR=<dir> takes the functions from an existing release
# build there and builds only the meter and the hello world.
#
# Nothing is provisioned in moto: no function calls AWS during init (clients are
# built, credentials and region come from the environment), so moto only has to be
# there for a call that init should not make.
set -euo pipefail
cd "$(dirname "$0")/.."
FUNCTIONS=(admin auth billing licensing memory outbox scheduler scripts storage)
TARGET=${CARGO_TARGET_DIR:-target}
# Linked as the Lambda build links (not position-independent; see
# .cargo/config.toml), hello world included. An explicit --target keeps the flag
# off the host's build scripts and proc macros.
HOST=x86_64-unknown-linux-gnu
export CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUSTFLAGS="-C link-arg=-Wl,--no-pie"
OUT=$TARGET/$HOST/release
if [[ -n "${SKIFF_COLDSTART_BIN_DIR:-}" ]]; then
  cargo build --release --target $HOST -p skiff-coldstart
  BIN_DIR=$SKIFF_COLDSTART_BIN_DIR
else
  cargo build --release --target $HOST -p skiff-fn-admin -p skiff-fn-auth -p skiff-fn-billing -p skiff-fn-licensing \
    -p skiff-fn-outbox -p skiff-fn-scheduler -p skiff-fn-storage -p skiff-fn-memory -p skiff-fn-scripts -p skiff-coldstart
  BIN_DIR=$OUT
fi
BINS=()
for f in "${FUNCTIONS[@]}"; do BINS+=("$BIN_DIR/$f"); done
# with-moto.sh exports the emulator's URL as SKIFF_TEST_AWS_ENDPOINT; the functions
# read AWS_ENDPOINT_URL.
exec scripts/with-moto.sh bash -c 'AWS_ENDPOINT_URL=$SKIFF_TEST_AWS_ENDPOINT exec "$@"' _ \
  "$OUT/coldstart" --baseline "$OUT/hello" "$@" "${BINS[@]}"
