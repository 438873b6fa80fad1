#!/usr/bin/env bash
# Issue 4's benchmark (figures, not a test): N messages end to end, from the first POST
# until the sink has every one, through mailgate and through Postfix, in one run.
#
#   wrk --POST N x (2 KiB, 2 recipients)--> mailgate (release) --relay--> smtp-sink
#        webhooks on: every outcome POSTed to a private nginx answering 200
#   smtp-source --N messages--> private Postfix --relayhost--> smtp-sink
#
# Both keep full durability: mailgate fsyncs every accepted message before its 202
# (group commit), Postfix every queue file before its 250.
# Prints messages/s for both, the ratio, SMTP transactions per message (from
# mailgate's metrics), webhook posts, and mailgate's peak resident memory.
#
# Usage: Benchmarks/end-to-end.sh [N]       Env: N=20000 CONNS=64 THREADS=2 MAILGATE_BIN=path TIMEOUT=600 KEEP=0
# Needs root (postfix, smtp-sink -u postfix) and: postfix nginx-light wrk curl
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
N=${1:-${N:-20000}}; CONNS=${CONNS:-64}; THREADS=${THREADS:-2}; TIMEOUT=${TIMEOUT:-600}
GW_PORT=18280; GW_SINK=18281; NGINX_PORT=18282; PF_PORT=18283; PF_SINK=18284
[ "$(id -u)" = 0 ] || { echo "must run as root (postfix)" >&2; exit 1; }
for tool in wrk curl nginx postfix smtp-sink smtp-source swift; do command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 1; }; done
WORK=$(mktemp -d /tmp/e2e-bench.XXXXXX); chmod 755 "$WORK"
source "$HERE/gateway/lib.sh"
for port in $GW_PORT $GW_SINK $NGINX_PORT $PF_PORT $PF_SINK; do port_free $port || { echo "127.0.0.1:$port in use" >&2; exit 1; }; done
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
build_release

echo "== mailgate: $N messages over wrk -t$THREADS -c$CONNS, relay to smtp-sink, webhooks to nginx"
start_sink $GW_SINK gateway-sink
start_nginx $NGINX_PORT
start_gateway gw $GW_PORT MAILGATE_RELAY="smtp://127.0.0.1:$GW_SINK" \
  MAILGATE_WEBHOOK_URL="http://127.0.0.1:$NGINX_PORT/hooks" MAILGATE_WEBHOOK_ALLOW_PRIVATE=true
# wrk runs for its whole -d even when every thread stopped at its request limit: it is
# stopped here once the gateway has accepted N messages.
T0=$(now)
REQUESTS=$(( (N + THREADS - 1) / THREADS )) wrk -t"$THREADS" -c"$CONNS" -d"${TIMEOUT}s" --latency \
  -s "$HERE/gateway/send_message.lua" "http://127.0.0.1:$GW_PORT/v1/messages" >"$WORK/wrk.out" &
WRK_PID=$!
accepted() { local value; value=$(metric $GW_PORT mailgate_messages_accepted_total); echo "${value%.*}"; }
while [ "$(accepted)" -lt "$N" ] && kill -0 "$WRK_PID" 2>/dev/null; do sleep 0.05; done
T_POSTED=$(now)
kill -INT "$WRK_PID" 2>/dev/null || true
wait "$WRK_PID" || true
POSTED=$(accepted)
grep -q "non2xx3xx=0 " "$WORK/wrk.out" || { echo "some POSTs were not accepted:" >&2; cat "$WORK/wrk.out" >&2; }
# Done when the sink answered 250 to every recipient: the gateway's own count of
# delivered recipients (smtp-sink's counter output lags behind under load).
delivered() { local value; value=$(metric $GW_PORT 'mailgate_recipients_total{outcome="delivered"}'); echo "${value%.*}"; }
deadline=$(( $(date +%s) + TIMEOUT ))
while [ "$(delivered)" -lt $((POSTED * 2)) ]; do
  [ "$(date +%s)" -lt "$deadline" ] || { echo "TIMEOUT: $(delivered) of $((POSTED * 2)) recipients delivered" >&2; break; }
  sleep 0.02
done
T_DONE=$(now)
DEFERRED=$(metric $GW_PORT 'mailgate_recipients_total{outcome="deferred"}')
GW_RATE=$(awk -v n="$POSTED" -v a="$T0" -v b="$T_DONE" 'BEGIN{printf "%.0f", n/(b-a)}')
ACCEPT_RATE=$(awk -v n="$POSTED" -v a="$T0" -v b="$T_POSTED" 'BEGIN{printf "%.0f", n/(b-a)}')
wait_until_posted() { for _ in $(seq 1 600); do
  local posted; posted=$(metric $GW_PORT 'mailgate_webhook_posts_total{result="success"}')
  [ "${posted%.*}" -ge $((POSTED * 2)) ] && return 0; sleep 0.1; done; return 1; }
wait_until_posted || echo "not every webhook was posted within 60 s" >&2
TRANSACTIONS=$(metric $GW_PORT mailgate_smtp_transaction_duration_seconds_count)
HOOKS=$(metric $GW_PORT 'mailgate_webhook_posts_total{result="success"}')
GW_RSS=$(peak_rss_mib "$GATEWAY_PID")
echo "mailgate: $POSTED messages accepted in $(awk -v a="$T0" -v b="$T_POSTED" 'BEGIN{printf "%.2f", b-a}')s ($ACCEPT_RATE msgs/s), all at the sink after $(awk -v a="$T0" -v b="$T_DONE" 'BEGIN{printf "%.2f", b-a}')s: $GW_RATE msgs/s end to end"
echo "          deferred on the way: ${DEFERRED%.*}; SMTP transactions $TRANSACTIONS ($(awk -v t="$TRANSACTIONS" -v n="$POSTED" 'BEGIN{printf "%.2f", t/n}') per message), webhook posts $HOOKS, peak RSS ${GW_RSS} MiB"
bench_stop "$GATEWAY_PID"

echo "== Postfix: smtp-source injects $POSTED messages (8 sessions), relayhost smtp-sink"
start_sink $PF_SINK postfix-sink
start_postfix pf $PF_PORT $PF_SINK
P0=$(now)
inject_postfix $PF_PORT "$POSTED" >/dev/null
# Done when Postfix's queue is empty again (its maillog then says every recipient was sent).
deadline=$(( $(date +%s) + TIMEOUT ))
while [ "$(postfix_queue_count pf)" -gt 0 ]; do
  [ "$(date +%s)" -lt "$deadline" ] || { echo "TIMEOUT: Postfix still queues $(postfix_queue_count pf) messages" >&2; break; }
  sleep 0.02
done
P_DONE=$(now)
PF_SENT=$(grep -c "status=sent" "$WORK/pf/maillog" || true)
[ "$PF_SENT" -eq $((POSTED * 2)) ] || echo "postfix sent $PF_SENT of $((POSTED * 2)) recipients" >&2
PF_RATE=$(awk -v n="$POSTED" -v a="$P0" -v b="$P_DONE" 'BEGIN{printf "%.0f", n/(b-a)}')
echo "postfix: all $POSTED at the sink after $(awk -v a="$P0" -v b="$P_DONE" 'BEGIN{printf "%.2f", b-a}')s: $PF_RATE msgs/s end to end"

echo
echo "RESULT n=$POSTED mailgate_e2e_mps=$GW_RATE postfix_e2e_mps=$PF_RATE ratio=$(awk -v a="$GW_RATE" -v b="$PF_RATE" 'BEGIN{printf "%.1f", a/b}')x transactions_per_message=$(awk -v t="$TRANSACTIONS" -v n="$POSTED" 'BEGIN{printf "%.2f", t/n}') peak_rss_mib=$GW_RSS"
