#!/usr/bin/env bash
# Benchmarks the SQLite queue store alone (no HTTP): N accepts of a 2 KiB message
# with 2 recipients from 64 concurrent tasks, each durable (fsync'd) before it
# returns, then delivery-style claims and outcomes. Prints messages/s, latency,
# CPU per message and commits/fsyncs per message from the store's own counters.
#
#   Benchmarks/run-queue.sh [--messages 100000] [--tasks 64] [--workers 4] [--dir DIR]
#
# DIR defaults to a fresh directory under $TMPDIR on the real disk: the figures
# depend on its fsync latency (a DIR under /dev/shm shows the CPU-bound ceiling).
# `--workers 0` skips the lease and delivery phases; run it under
# `strace -f -c -e trace=fdatasync,fsync` to count every sync, checkpoints included.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch="${SCRATCH_PATH:-.build-queue-release}"
swift build -c release --scratch-path "$scratch" --product queue-bench >&2
exec "$scratch/release/queue-bench" "$@"
