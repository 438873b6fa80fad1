#!/usr/bin/env bash
# Issue 3's benchmark (figures, not a test): how fast mailgate accepts messages with full
# durability, side by side in one run with Postfix's injection rate on the same machine.
#
#   wrk (64 connections) --POST 2 KiB, 2 recipients--> mailgate (release, SQLite in $WORK)
#   smtp-source (8 sessions) --same N messages--> private Postfix --> smtp-sink
#
# Phase A keeps delivery out of the way (send_at a day ahead): acceptance alone.
# Phase B lets delivery run at the same time (relay to smtp-sink): acceptance under load.
# Prints accepted messages/s, p50/p99, synced commits per message (the store's own
# counter: every 202 waits for its transaction's fsync, shared by group commit), and the
# ratio to Postfix's injection rate.
#
# Usage: Benchmarks/accept.sh            Env: DURATION=10s CONNS=64 THREADS=2 MAILGATE_BIN=path KEEP=0
# Needs root (postfix, smtp-sink -u postfix) and: postfix wrk curl (.ci/install-deps --bench)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
DURATION=${DURATION:-10s}; CONNS=${CONNS:-64}; THREADS=${THREADS:-2}
GW_PORT=18180; SINK_PORT=18181; PF_PORT=18182; PF_SINK_PORT=18183
[ "$(id -u)" = 0 ] || { echo "must run as root (postfix)" >&2; exit 1; }
for tool in wrk curl postfix smtp-sink smtp-source swift; do command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 1; }; done
for port in $GW_PORT $SINK_PORT $PF_PORT $PF_SINK_PORT; do port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }; port_free $port || { echo "127.0.0.1:$port in use" >&2; exit 1; }; done
WORK=$(mktemp -d /tmp/accept-bench.XXXXXX); chmod 755 "$WORK"
source "$HERE/gateway/lib.sh"
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
build_release

# wrk_run NAME ENV...: runs wrk with the send script; prints "requests rps p50 p99".
wrk_run() {
  local name=$1; shift
  env "$@" wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s "$HERE/gateway/send_message.lua" \
    "http://127.0.0.1:$GW_PORT/v1/messages" >"$WORK/$name.wrk"
  grep -q "non2xx3xx=0 " "$WORK/$name.wrk" || { echo "$name: some requests were not accepted:" >&2; cat "$WORK/$name.wrk" >&2; }
  awk '/Requests\/sec/ {rps=$2} / 50%/ {p50=$2} / 99%/ {p99=$2} /^body_bytes/ {split($2, r, "="); n=r[2]}
       END {printf "%d %.0f %s %s\n", n, rps, p50, p99}' "$WORK/$name.wrk"
}

echo "== phase A: acceptance alone (send_at tomorrow), wrk -t$THREADS -c$CONNS -d$DURATION"
start_sink $SINK_PORT gateway-sink
start_gateway gw $GW_PORT MAILGATE_RELAY="smtp://127.0.0.1:$SINK_PORT"
tomorrow=$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)
read -r A_N A_RPS A_P50 A_P99 < <(wrk_run phaseA SEND_AT="$tomorrow")
A_SYNCS=$(metric $GW_PORT mailgate_store_synced_commits); A_WRITES=$(metric $GW_PORT mailgate_store_writes)
A_RSS=$(peak_rss_mib "$GATEWAY_PID")
echo "mailgate accepted $A_N messages: $A_RPS msgs/s, p50 $A_P50, p99 $A_P99; synced commits $A_SYNCS for $A_WRITES writes; peak RSS ${A_RSS} MiB"

echo "== phase B: acceptance while delivering to smtp-sink"
read -r B_N B_RPS B_P50 B_P99 < <(wrk_run phaseB)
echo "mailgate accepted $B_N messages: $B_RPS msgs/s, p50 $B_P50, p99 $B_P99 (delivery running)"
bench_stop "$GATEWAY_PID"

echo "== Postfix: smtp-source injects $A_N messages (8 sessions, 2 recipients, ~2.1 KB)"
start_sink $PF_SINK_PORT postfix-sink
start_postfix pf $PF_PORT $PF_SINK_PORT
PF_SECONDS=$(inject_postfix $PF_PORT "$A_N")
PF_RATE=$(awk -v n="$A_N" -v s="$PF_SECONDS" 'BEGIN{printf "%.0f", n/s}')
echo "postfix injected $A_N messages in ${PF_SECONDS}s: $PF_RATE msgs/s"

echo
awk -v a="$A_RPS" -v b="$B_RPS" -v p="$PF_RATE" -v syncs="$A_SYNCS" -v n="$A_N" 'BEGIN{
  printf "RESULT accept_only_mps=%.0f with_delivery_mps=%.0f postfix_inject_mps=%.0f ratio=%.1fx ratio_with_delivery=%.1fx synced_commits_per_message=%.4f\n",
    a, b, p, a/p, b/p, (n > 0 ? syncs/n : 0) }'
