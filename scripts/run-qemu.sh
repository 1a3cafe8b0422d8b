#!/usr/bin/env bash
# Thin wrapper for readers of the original README: boots Ferrous in QEMU.
# Everything is done by `cargo xtask run`; arguments are passed through, e.g.
#   scripts/run-qemu.sh --smp 4 -- log=debug
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo xtask run "$@"
