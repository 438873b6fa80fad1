#!/usr/bin/env bash
# HTTP figures on loopback, all in one run (figures, not a test):
#   (a) nginx `return 202`           wrk POST of a 1 KiB JSON body
#   (b) http-bench POST /v1/messages  the same load on the HTTPServer module alone
#   (c) mailgate GET /healthz         only when a mailgate binary is given
# then the resident memory of http-bench (and mailgate) holding 10,000 idle
# keep-alive connections.
#
# Usage: Benchmarks/http.sh [path/to/mailgate]        (or MAILGATE_BIN=...)
# Env: DURATION=10s THREADS=2 CONNS=64 LOOPS=(cores) IDLE=10000 SCRATCH=.build
#      NICE=-15 runs the servers and wrk at that niceness (root only), so that other
#      work on a shared machine disturbs the comparison less.
# Everything listens on 127.0.0.1; every process started here is stopped by pid.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
MAILGATE_BIN=${1:-${MAILGATE_BIN:-}}
DURATION=${DURATION:-10s}; THREADS=${THREADS:-2}; CONNS=${CONNS:-64}; IDLE=${IDLE:-10000}
LOOPS=${LOOPS:-$(nproc)}; SCRATCH=${SCRATCH:-$ROOT/.build}
RUN=(); [ -n "${NICE:-}" ] && RUN=(nice -n "$NICE")
NGINX_PORT=${NGINX_PORT:-18088}; BENCH_PORT=${BENCH_PORT:-18089}; MAILGATE_PORT=${MAILGATE_PORT:-18090}
for tool in wrk nginx curl python3 swift; do
  command -v "$tool" >/dev/null || { echo "http.sh needs $tool (apt-get install wrk nginx-light curl python3)" >&2; exit 1; }
done
for port in "$NGINX_PORT" "$BENCH_PORT" "$MAILGATE_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "127.0.0.1:$port is already in use" >&2; exit 1; fi
done
ulimit -n "$(ulimit -Hn)"

WORK=$(mktemp -d /tmp/http-bench.XXXXXX)
chmod 755 "$WORK"
PIDS=()
stop() { # stop pid [signal]: ask, wait up to 5 s, then force
  local pid=$1
  kill -"${2:-TERM}" "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}
cleanup() { for pid in "${PIDS[@]}"; do stop "$pid"; done; rm -rf "$WORK"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_port() { for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done
  echo "nothing listens on 127.0.0.1:$1" >&2; return 1; }

echo "building http-bench (release)..."
swift build -c release --product http-bench --scratch-path "$SCRATCH" --package-path "$ROOT" >"$WORK/build.log" 2>&1 \
  || { cat "$WORK/build.log" >&2; exit 1; }
BENCH_BIN=$(swift build -c release --product http-bench --scratch-path "$SCRATCH" --package-path "$ROOT" --show-bin-path)/http-bench

# cpu_ticks PID...: user+system clock ticks used so far by these processes and their children threads
cpu_ticks() { local total=0 pid; for pid in "$@"; do total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat"))); done; echo "$total"; }

# run_wrk NAME URL LUA PID...: appends "NAME rps p50ms p99ms non2xx cpu_us_per_request" to $WORK/results.
# CPU per request (the server's user+system time over the requests it answered) is the
# figure that noise from other processes on the machine disturbs least.
run_wrk() {
  local name=$1 url=$2 script=$3; shift 3
  local args=(-t"$THREADS" -c"$CONNS" -d"$DURATION" --latency)
  [ -n "$script" ] && args+=(-s "$script")
  local before; before=$(cpu_ticks "$@")
  "${RUN[@]}" wrk "${args[@]}" "$url" > "$WORK/$name.wrk"
  local ticks=$(( $(cpu_ticks "$@") - before ))
  awk -v name="$name" -v ticks="$ticks" -v hz="$(getconf CLK_TCK)" '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /Requests\/sec/ { rps = $2 } / 50% / { p50 = ms($2) } / 99% / { p99 = ms($2) }
    / requests in / { total = $1 } /Non-2xx/ { bad = $NF }
    END { printf "%s %s %.3f %.3f %s %.2f\n", name, rps, p50, p99, (bad == "" ? 0 : bad), ticks / hz * 1e6 / total }' "$WORK/$name.wrk" >> "$WORK/results"
}

# (a) nginx, one worker per core
mkdir -p "$WORK/nginx/conf" "$WORK/nginx/tmp"
sed "s/NGINX_PORT/$NGINX_PORT/" "$HERE/http/nginx.conf" > "$WORK/nginx/conf/nginx.conf"
"${RUN[@]}" nginx -p "$WORK/nginx/" -c conf/nginx.conf -g "worker_processes $LOOPS; pid $WORK/nginx/nginx.pid; error_log $WORK/nginx/error.log warn; daemon off;" &
PIDS+=($!); NGINX_PID=$!
wait_port "$NGINX_PORT"
echo "wrk -t$THREADS -c$CONNS -d$DURATION: nginx return 202 ($LOOPS workers)..."
run_wrk nginx "http://127.0.0.1:$NGINX_PORT/v1/messages" "$HERE/http/post_json.lua" "$NGINX_PID" $(pgrep -P "$NGINX_PID")
stop "$NGINX_PID" QUIT

# (b) http-bench
"${RUN[@]}" "$BENCH_BIN" --listen "127.0.0.1:$BENCH_PORT" --loops "$LOOPS" --max-connections $((IDLE + 1000)) > "$WORK/http-bench.log" 2>&1 &
PIDS+=($!); BENCH_PID=$!
wait_port "$BENCH_PORT"
echo "wrk -t$THREADS -c$CONNS -d$DURATION: http-bench POST /v1/messages ($LOOPS loops)..."
run_wrk http-bench "http://127.0.0.1:$BENCH_PORT/v1/messages" "$HERE/http/post_json.lua" "$BENCH_PID"

# (c) mailgate, when given
if [ -n "$MAILGATE_BIN" ] && [ -x "$MAILGATE_BIN" ]; then
  MAILGATE_LISTEN="127.0.0.1:$MAILGATE_PORT" MAILGATE_DATA_DIR="$WORK/mailgate-data" "${RUN[@]}" "$MAILGATE_BIN" serve > "$WORK/mailgate.log" 2>&1 &
  PIDS+=($!); MAILGATE_PID=$!
  wait_port "$MAILGATE_PORT"
  echo "wrk -t$THREADS -c$CONNS -d$DURATION: mailgate GET /healthz..."
  run_wrk mailgate "http://127.0.0.1:$MAILGATE_PORT/healthz" "" "$MAILGATE_PID"
else
  echo "(no mailgate binary given: skipping mailgate GET /healthz)"
  MAILGATE_PID=""
fi

echo
awk 'NR == 1 { rps = $2; p99 = $4; cpu = $6 }
  { printf "%-10s %7.0f req/s (%.2fx)  p50 %6.3f ms  p99 %7.3f ms (%.2fx)  cpu %5.2f us/req (%.2fx)  non-2xx %s\n",
           $1, $2, $2 / rps, $3, $4, $4 / p99, $6, $6 / cpu, $5 }' "$WORK/results"
echo "(ratios are to nginx; load average $(cut -d' ' -f1-3 /proc/loadavg))"

# Idle keep-alive connections: resident memory of the server holding them.
idle_memory() { # NAME PID PORT PATH
  local name=$1 pid=$2 port=$3 path=$4
  python3 "$HERE/http/idle_connections.py" 127.0.0.1 "$port" "$IDLE" "$path" > "$WORK/idle.out" 2>"$WORK/idle.err" &
  local client=$!
  for _ in $(seq 1 600); do grep -q ready "$WORK/idle.out" 2>/dev/null && break; kill -0 "$client" 2>/dev/null || break; sleep 0.1; done
  if grep -q ready "$WORK/idle.out"; then
    printf "%-11s %s idle keep-alive connections: %s, %s\n" "$name" "$(awk '{print $2}' "$WORK/idle.out")" \
      "$(grep VmRSS /proc/"$pid"/status | tr -s ' \t' ' ')" "$(grep VmHWM /proc/"$pid"/status | tr -s ' \t' ' ')"
  else
    echo "$name: idle connection client failed: $(cat "$WORK/idle.err")"
  fi
  stop "$client"
}
echo
idle_memory http-bench "$BENCH_PID" "$BENCH_PORT" /healthz
[ -n "$MAILGATE_PID" ] && idle_memory mailgate "$MAILGATE_PID" "$MAILGATE_PORT" /healthz
exit 0
