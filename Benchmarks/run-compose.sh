#!/usr/bin/env bash
# Times MailComposer on the messages of the HTTP benchmark (a 2 KiB text
# message, 2 recipients). Usage: Benchmarks/run-compose.sh [iterations]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
swiftc -O -wmo -module-name ComposeBench \
    "$root"/Sources/MailComposer/*.swift "$root"/Benchmarks/ComposeBench/main.swift \
    -o "$out/compose-bench"
"$out/compose-bench" "${1:-200000}" ${2:+"$2"}
