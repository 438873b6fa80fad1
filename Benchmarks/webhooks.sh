#!/usr/bin/env bash
# Webhook throughput: events/s the webhook service (libcurl multi, SQLite outbox)
# posts to nginx on 127.0.0.1, first all answered 200, then with 20% answered 500
# (retried on a 10ms schedule until delivered). Prints events/s, POSTs/s and the
# bench process's peak RSS for each run.
# Usage: Benchmarks/webhooks.sh            Env: EVENTS=50000 PORT=8090 MAX_IN_FLIGHT=256
#        PER_RECEIVER=64 SCRATCH=.build-bench (SwiftPM scratch path for the release build)
# Starts a private nginx (prefix under /tmp), stops it by its pid, removes its files.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
EVENTS=${EVENTS:-50000}; PORT=${PORT:-8090}; MAX_IN_FLIGHT=${MAX_IN_FLIGHT:-256}; PER_RECEIVER=${PER_RECEIVER:-64}
SCRATCH=${SCRATCH:-$ROOT/.build-bench}
command -v nginx >/dev/null || { echo "need nginx (apt-get install nginx-light)" >&2; exit 1; }
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then echo "127.0.0.1:$PORT already in use" >&2; exit 1; fi

(cd "$ROOT" && swift build -c release --product webhook-bench --scratch-path "$SCRATCH" 2>&1 | tail -1)
BENCH="$SCRATCH/release/webhook-bench"

PREFIX=$(mktemp -d /tmp/nginx-webhooks.XXXXXX)
chmod 755 "$PREFIX"; mkdir -p "$PREFIX/tmp" "$PREFIX/conf"
sed "s/127.0.0.1:8090/127.0.0.1:$PORT/" "$HERE/nginx-webhooks.conf" > "$PREFIX/conf/nginx.conf"
NGX_PID=""
stop_nginx() {
  if [ -n "$NGX_PID" ] && kill -0 "$NGX_PID" 2>/dev/null; then
    kill -QUIT "$NGX_PID"
    for _ in $(seq 1 50); do kill -0 "$NGX_PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$NGX_PID" 2>/dev/null && kill -TERM "$NGX_PID"
  fi
  NGX_PID=""
}
trap 'stop_nginx; rm -rf "$PREFIX"' EXIT
trap 'exit 130' INT TERM

nginx -p "$PREFIX/" -c conf/nginx.conf -g "worker_processes 1; pid $PREFIX/nginx.pid; error_log $PREFIX/error.log warn;"
for _ in $(seq 1 50); do [ -s "$PREFIX/nginx.pid" ] && break; sleep 0.1; done
NGX_PID=$(cat "$PREFIX/nginx.pid")
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data '{}' "http://127.0.0.1:$PORT/ok")
[ "$code" = 200 ] || { echo "sanity POST got $code" >&2; exit 1; }

for path in ok flaky; do
  echo "== POST /$path (nginx $(nginx -v 2>&1 | sed 's/.*nginx\///'), 1 worker)"
  "$BENCH" --url "http://127.0.0.1:$PORT/$path" --events "$EVENTS" \
    --max-in-flight "$MAX_IN_FLIGHT" --per-receiver "$PER_RECEIVER"
done
