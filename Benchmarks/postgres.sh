#!/usr/bin/env bash
# Issue 7's benchmark (figures, not a test): the PostgreSQL queue with one gateway and
# with two sharing it, side by side with the SQLite queue, in one run on this machine.
#
#   accepted:    wrk (CONNS connections, spread over the gateways) POSTs a 2 KiB message
#                with 2 recipients for DURATION; send_at a day ahead keeps delivery idle.
#   end to end:  N such messages POSTed (wrk, as above), relayed to Postfix's smtp-sink;
#                from the first POST until the sink has every accepted message.
#
# Every 202 waits for its commit to be on disk in both stores (SQLite: fsync of the WAL;
# PostgreSQL: synchronous_commit=on, fsync on); both group-commit. PostgreSQL is a private
# cluster (.ci/postgres) on loopback, on the same disk and the same 2 cores as the gateways
# and wrk. Prints accepted msgs/s with p50/p99, writes per commit, and end-to-end msgs/s.
#
# Usage: Benchmarks/postgres.sh     Env: DURATION=10s CONNS=64 THREADS=2 N=10000 TIMEOUT=300 MAILGATE_BIN=path KEEP=0
# Needs: wrk curl psql smtp-sink (postfix) and PostgreSQL's server binaries (.ci/install-deps --test).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
DURATION=${DURATION:-10s}; CONNS=${CONNS:-64}; THREADS=${THREADS:-2}; N=${N:-10000}; TIMEOUT=${TIMEOUT:-300}
for tool in wrk curl psql smtp-sink swift python3; do command -v "$tool" >/dev/null || { echo "postgres.sh needs $tool" >&2; exit 1; }; done
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# Three free loopback ports, chosen by the kernel: two gateways and the sink.
read -r PORT_A PORT_B SINK_PORT < <(python3 -c 'import socket
sockets = [socket.socket() for _ in range(3)]
for s in sockets: s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in sockets))')

WORK=$(mktemp -d /tmp/postgres-bench.XXXXXX); chmod 755 "$WORK"
PIDS=(); PG_URL=""
stop_pid() { # pid: ask, wait up to 10 s, then force
  kill -TERM "$1" 2>/dev/null || return 0
  for _ in $(seq 1 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null || true
}
cleanup() {
  for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
  [ -n "$PG_URL" ] && "$ROOT/.ci/postgres" stop "$PG_URL" || true
  [ "${KEEP:-0}" = 1 ] && echo "kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", b - a}'; }
wait_port() { for _ in $(seq 1 200); do port_free "$1" || return 0; sleep 0.05; done; echo "nothing listens on 127.0.0.1:$1" >&2; return 1; }
metric() { curl -s "http://127.0.0.1:$1/metrics" | awk -v name="$2" '$1 == name {printf "%d", $2}'; }

if [ -z "${MAILGATE_BIN:-}" ]; then
  echo "building mailgate (release)..." >&2
  swift build -c release --product mailgate --package-path "$ROOT" --scratch-path "$ROOT/.build-pg" >"$WORK/build.log" 2>&1 \
    || { cat "$WORK/build.log" >&2; exit 1; }
  MAILGATE_BIN="$ROOT/.build-pg/release/mailgate"
fi
PG_URL=$("$ROOT/.ci/postgres" start)
echo "PostgreSQL $(psql -X -At "$PG_URL" -c 'SHOW server_version') at $PG_URL (fsync $(psql -X -At "$PG_URL" -c 'SHOW fsync'), synchronous_commit $(psql -X -At "$PG_URL" -c 'SHOW synchronous_commit'))"

new_database() { # NAME -> URL of a new empty database
  psql -X -q "$PG_URL" -c "CREATE DATABASE $1"
  echo "${PG_URL%/*}/$1"
}

start_gateway() { # NAME PORT ENV...: a release gateway relaying to the sink; its pid in GATEWAY_PID
  local name=$1 port=$2; shift 2
  mkdir -p "$WORK/$name"
  env -i PATH="$PATH" MAILGATE_LISTEN="127.0.0.1:$port" MAILGATE_DATA_DIR="$WORK/$name/data" MAILGATE_API_KEYS=bench-key \
    MAILGATE_LOG_LEVEL=warning MAILGATE_HELO_NAME="$name.bench" MAILGATE_RELAY="smtp://127.0.0.1:$SINK_PORT" "$@" \
    "$MAILGATE_BIN" serve >"$WORK/$name/log" 2>&1 &
  PIDS+=($!); GATEWAY_PID=$!
  wait_port "$port"
}

start_sink() { # a fresh smtp-sink counting messages in $WORK/sink.out; its pid in SINK_PID
  local user=(); [ "$(id -u)" = 0 ] && user=(-u postfix)
  smtp-sink -c "${user[@]}" "127.0.0.1:$SINK_PORT" 1000 >"$WORK/sink.out" 2>&1 &
  PIDS+=($!); SINK_PID=$!
  wait_port "$SINK_PORT"
}
sink_count() { local c; c=$(tail -c 300 "$WORK/sink.out" | tr '\r' '\n' | sed -n 's/.*mesg=\([0-9]*\).*/\1/p' | tail -1); echo "${c:-0}"; }

# load LABEL SEND_AT PORT...: one wrk per gateway at once for DURATION, CONNS and THREADS split
# between them; writes "rps p50_ms p99_ms non2xx" (summed rates, worst latencies) to $WORK/LABEL.
load() {
  local label=$1 send_at=$2; shift 2
  local conns=$((CONNS / $#)) threads=$(( THREADS / $# > 0 ? THREADS / $# : 1 )) port pids=()
  for port in "$@"; do
    SEND_AT="$send_at" wrk -t"$threads" -c"$conns" -d"$DURATION" --latency -s "$HERE/gateway/send_message.lua" \
      "http://127.0.0.1:$port/v1/messages" >"$WORK/$label.$port.wrk" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid"; done
  cat "$WORK/$label".*.wrk | awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /Requests\/sec/ { rps += $2 } / 50% / { if (ms($2) > p50) p50 = ms($2) } / 99% / { if (ms($2) > p99) p99 = ms($2) }
    /^body_bytes/ { split($3, e, "="); bad += e[2] }
    END { printf "%.0f %.2f %.2f %d\n", rps, p50, p99, bad }' >"$WORK/$label"
}

# start_gateways LABEL ENV-FOR-EACH-GATEWAY...: one gateway per argument (its
# variables, space-separated) on PORT_A, then PORT_B; their ports and pids in
# GATEWAY_PORTS and GATEWAY_PIDS.
start_gateways() {
  local label=$1; shift
  local index=0 env_line port
  GATEWAY_PORTS=(); GATEWAY_PIDS=()
  for env_line in "$@"; do
    port=$([ $index = 0 ] && echo "$PORT_A" || echo "$PORT_B")
    # shellcheck disable=SC2086
    start_gateway "$label-$index" "$port" $env_line
    GATEWAY_PORTS+=("$port"); GATEWAY_PIDS+=("$GATEWAY_PID"); index=$((index + 1))
  done
}

# accepted LABEL ENV-FOR-EACH-GATEWAY...: gateways on the given queue, wrk for DURATION.
accepted() {
  local label=$1; shift
  start_sink
  start_gateways "$label" "$@"
  local ports=("${GATEWAY_PORTS[@]}") pids=("${GATEWAY_PIDS[@]}")
  load "$label" "$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)" "${ports[@]}"
  local writes=0 commits=0 port
  for port in "${ports[@]}"; do
    writes=$((writes + $(metric "$port" mailgate_store_writes))); commits=$((commits + $(metric "$port" mailgate_store_commits)))
  done
  echo "$(cat "$WORK/$label") $(awk -v w="$writes" -v c="$commits" 'BEGIN {printf "%.1f", c ? w / c : 0}')" >"$WORK/$label"
  read -r rps p50 p99 bad per_commit <"$WORK/$label"
  echo "  $label: $rps accepted msgs/s, p50 $p50 ms, p99 $p99 ms, $per_commit writes per commit, non-2xx $bad"
  for pid in "${pids[@]}"; do stop_pid "$pid"; done
  stop_pid "$SINK_PID"
}

# end_to_end LABEL ENV-FOR-EACH-GATEWAY...: N messages POSTed, until the sink has them all.
# wrk runs for its whole -d even when every thread stopped early, so it is stopped here
# once the gateways have accepted N messages.
end_to_end() {
  local label=$1; shift
  start_sink
  start_gateways "$label" "$@"
  local ports=("${GATEWAY_PORTS[@]}") pids=("${GATEWAY_PIDS[@]}") wrks=()
  local threads=$(( THREADS / $# > 0 ? THREADS / $# : 1 ))
  local per_thread=$(( (N + $# * threads - 1) / ($# * threads) ))
  local start posted_at done_at accepted_total=0
  start=$(now)
  for port in "${ports[@]}"; do
    REQUESTS="$per_thread" wrk -t"$threads" -c"$((CONNS / $#))" -d"${TIMEOUT}s" -s "$HERE/gateway/send_message.lua" \
      "http://127.0.0.1:$port/v1/messages" >"$WORK/$label.$port.wrk" &
    wrks+=($!)
  done
  accepted_now() { local total=0 port; for port in "${ports[@]}"; do total=$((total + $(metric "$port" mailgate_messages_accepted_total))); done; echo "$total"; }
  until [ "$(accepted_now)" -ge "$N" ] || awk -v a="$start" -v b="$(now)" -v t="$TIMEOUT" 'BEGIN {exit !(b - a > t)}'; do sleep 0.05; done
  posted_at=$(now)
  for pid in "${wrks[@]}"; do kill -INT "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  accepted_total=$(accepted_now)
  until [ "$(sink_count)" -ge "$accepted_total" ] || awk -v a="$start" -v b="$(now)" -v t="$TIMEOUT" 'BEGIN {exit !(b - a > t)}'; do sleep 0.05; done
  done_at=$(now)
  [ "$(sink_count)" -ge "$accepted_total" ] || echo "  $label: TIMEOUT, the sink has $(sink_count) of $accepted_total" >&2
  local rate; rate=$(awk -v n="$accepted_total" -v a="$start" -v b="$done_at" 'BEGIN {printf "%.0f", n / (b - a)}')
  echo "$rate $accepted_total $(elapsed "$start" "$done_at") $(elapsed "$start" "$posted_at")" >"$WORK/$label"
  echo "  $label: $accepted_total messages at the sink after $(elapsed "$start" "$done_at") s (accepted within $(elapsed "$start" "$posted_at") s): $rate msgs/s end to end"
  for pid in "${pids[@]}"; do stop_pid "$pid"; done
  stop_pid "$SINK_PID"
}

echo "== accepted messages/s: wrk -c$CONNS -t$THREADS -d$DURATION, 2 KiB, 2 recipients, send_at tomorrow"
accepted acc-sqlite "MAILGATE_DATA_DIR=$WORK/acc-sqlite-data"
DB=$(new_database bench_acc_one); accepted acc-pg-one "MAILGATE_DATABASE_URL=$DB"
DB=$(new_database bench_acc_two); accepted acc-pg-two "MAILGATE_DATABASE_URL=$DB" "MAILGATE_DATABASE_URL=$DB"

echo "== end to end: $N messages POSTed (wrk -c$CONNS), relayed to smtp-sink"
end_to_end e2e-sqlite "MAILGATE_DATA_DIR=$WORK/e2e-sqlite-data"
DB=$(new_database bench_e2e_one); end_to_end e2e-pg-one "MAILGATE_DATABASE_URL=$DB"
DB=$(new_database bench_e2e_two); end_to_end e2e-pg-two "MAILGATE_DATABASE_URL=$DB" "MAILGATE_DATABASE_URL=$DB"

echo
printf "%-28s %14s %9s %9s %15s %17s\n" "queue" "accepted/s" "p50 ms" "p99 ms" "writes/commit" "end-to-end/s"
for row in "sqlite:SQLite, 1 gateway" "pg-one:PostgreSQL, 1 gateway" "pg-two:PostgreSQL, 2 gateways"; do
  key=${row%%:*}; name=${row#*:}
  read -r rps p50 p99 _ per_commit <"$WORK/acc-$key"
  read -r e2e _ <"$WORK/e2e-$key"
  printf "%-28s %14s %9s %9s %15s %17s\n" "$name" "$rps" "$p50" "$p99" "$per_commit" "$e2e"
done
echo "(load average $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores shared by wrk, the gateways, PostgreSQL and smtp-sink)"
