#!/usr/bin/env bash
# Fuzzes the HTTP request parser with libFuzzer for a bounded time.
# Usage: Tests/Fuzz/run-http-parser-fuzz.sh [seconds]     (default 60)
# Compiles Sources/HTTPServer/Parsing/*.swift (stdlib only) with the entry point
# in HTTPRequestParserFuzz.swift using `swiftc -sanitize=fuzzer,address`, seeds a
# corpus with valid and invalid requests, and runs. Exits non-zero on a crash or a
# broken invariant; the reproducer is left in Tests/Fuzz/artifacts/.
set -euo pipefail
DURATION=${1:-60}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CORPUS="$HERE/corpus/http-request-parser"
ARTIFACTS="$HERE/artifacts"
WORK=$(mktemp -d /tmp/http-parser-fuzz.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$CORPUS" "$ARTIFACTS"

swiftc -sanitize=fuzzer,address -parse-as-library -O -module-name HTTPParserFuzz \
  "$ROOT"/Sources/HTTPServer/Parsing/*.swift "$HERE/HTTPRequestParserFuzz.swift" -o "$WORK/fuzz-http-parser"

seed() { printf "$2" > "$CORPUS/seed-$1"; }
seed get 'GET /healthz HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n'
seed post 'POST /v1/messages HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{"from":"a"}\n'
seed chunked 'POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\nX-T: 1\r\n\r\n'
seed pipelined 'GET /1 HTTP/1.1\r\nHost: a\r\n\r\nHEAD /2 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'
seed continue 'PUT /x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc'
seed http10 '\r\nGET http://h/p?q=1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n'
seed folded 'GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n 2\r\n\r\n'
seed barelf 'GET / HTTP/1.1\nHost: a\n\n'
seed conflict 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'
seed badchunk 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'
seed version 'GET / HTTP/2.0\r\nHost: a\r\n\r\n'

echo "fuzzing the HTTP request parser for ${DURATION}s (corpus $CORPUS)"
"$WORK/fuzz-http-parser" -max_total_time="$DURATION" -max_len=2048 -print_final_stats=1 \
  -artifact_prefix="$ARTIFACTS/" "$CORPUS"
