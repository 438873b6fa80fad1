# Shared pieces of the gateway benchmarks: private Postfix, smtp-sink, nginx, and the
# gateway itself, all on 127.0.0.1, each stopped by its own pid at exit.
# Source it after setting ROOT and WORK; register cleanup with `trap bench_cleanup EXIT`.

PIDS=()
PF_CONFS=()

bench_stop() { # pid [signal]: ask, wait up to 10 s, then force
  local pid=$1
  kill -"${2:-TERM}" "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

bench_cleanup() {
  for conf in "${PF_CONFS[@]}"; do postfix -c "$conf" stop >/dev/null 2>&1 || true; done
  for pid in "${PIDS[@]}"; do bench_stop "$pid"; done
  [ "${KEEP:-0}" = 1 ] && echo "kept $WORK" || rm -rf "$WORK"
}

wait_port() { for _ in $(seq 1 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done
  echo "nothing listens on 127.0.0.1:$1" >&2; return 1; }

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

now() { date +%s.%N; }

# start_sink PORT NAME: Postfix's smtp-sink answering 250 to everything. (Its counter
# output lags behind under load, so the scripts count deliveries elsewhere.)
start_sink() {
  smtp-sink -u postfix "127.0.0.1:$1" 1000 >"$WORK/$2.out" 2>&1 &
  PIDS+=($!)
  wait_port "$1"
  kill -0 "${PIDS[-1]}" 2>/dev/null || { echo "smtp-sink on $1 did not start: $(cat "$WORK/$2.out")" >&2; return 1; }
}

# start_postfix NAME IN_PORT RELAY_PORT: a private Postfix accepting on IN_PORT and relaying
# everything to 127.0.0.1:RELAY_PORT. Its own config/queue/data directories; fsync of each
# queue file kept (Postfix has no knob for it); logs to a file as a real install would.
start_postfix() {
  local name=$1 in_port=$2 relay_port=$3 base="$WORK/$1"
  mkdir -p "$base/etc" "$base/spool" "$base/data"
  chown postfix:postfix "$base/data"
  cat >"$base/etc/main.cf" <<CF
compatibility_level = 3.6
config_directory = $base/etc
queue_directory = $base/spool
data_directory = $base/data
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
meta_directory = /etc/postfix
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
syslog_name = postfix-$name
maillog_file = $base/maillog
maillog_file_prefixes = $WORK
myhostname = $name.localdomain
mydomain = localdomain
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
mydestination =
local_recipient_maps =
local_transport = error:local delivery disabled
alias_maps =
alias_database =
relayhost = [127.0.0.1]:$relay_port
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_recipient_restrictions =
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
biff = no
default_process_limit = 100
smtp_destination_concurrency_limit = 20
qmgr_message_active_limit = 20000
CF
  cat >"$base/etc/master.cf" <<CF
127.0.0.1:$in_port inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
CF
  postfix -c "$base/etc" check >/dev/null
  postfix -c "$base/etc" start >/dev/null 2>&1
  PF_CONFS+=("$base/etc")
  wait_port "$in_port"
}

postfix_queue_count() { find "$WORK/$1/spool/"{maildrop,incoming,active,deferred,hold} -type f 2>/dev/null | wc -l; }

# inject_postfix PORT N: smtp-source injects N messages of ~2 KiB with 2 recipients over 8
# reused sessions (the anchor's shape); prints the seconds it took.
inject_postfix() {
  local start end
  start=$(now)
  smtp-source -d -s 8 -m "$2" -r 2 -l 1900 -S "bench message" -f orders@shop.example -t buyer@dest.example \
    -M bench-client.example "127.0.0.1:$1"
  end=$(now)
  awk -v a="$start" -v b="$end" 'BEGIN{printf "%.3f", b-a}'
}

# start_nginx PORT: a private nginx answering 200 to every POST (the webhook receiver).
start_nginx() {
  mkdir -p "$WORK/nginx/tmp" "$WORK/nginx/conf"
  cat >"$WORK/nginx/conf/nginx.conf" <<CF
user www-data;
worker_processes 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path tmp/body;
  proxy_temp_path tmp/proxy;
  fastcgi_temp_path tmp/fastcgi;
  uwsgi_temp_path tmp/uwsgi;
  scgi_temp_path tmp/scgi;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:$1; location / { return 200 ''; } }
}
CF
  chmod -R 755 "$WORK/nginx"
  nginx -p "$WORK/nginx/" -c conf/nginx.conf
  wait_port "$1"
  PIDS+=("$(cat "$WORK/nginx/nginx.pid")")
}

# start_gateway NAME PORT ENV...: a release mailgate with its data under $WORK/NAME, logging
# at its default level (info: a line per request, per message and per recipient outcome),
# as Postfix logs each message in the anchor runs.
start_gateway() {
  local name=$1 port=$2; shift 2
  mkdir -p "$WORK/$name"
  env -i PATH="$PATH" MAILGATE_LISTEN="127.0.0.1:$port" MAILGATE_DATA_DIR="$WORK/$name/data" \
    MAILGATE_API_KEYS=bench-key "$@" \
    "$MAILGATE_BIN" serve >"$WORK/$name/log" 2>&1 &
  PIDS+=($!)
  GATEWAY_PID=$!
  wait_port "$port"
}

metric() { curl -s "http://127.0.0.1:$1/metrics" | awk -v name="$2" '$1 == name {print $2}'; }

peak_rss_mib() { awk '/VmHWM/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }

build_release() {
  if [ -z "${MAILGATE_BIN:-}" ]; then
    echo "building mailgate (release)..." >&2
    swift build -c release --product mailgate --package-path "$ROOT" >"$WORK/build.log" 2>&1 || { cat "$WORK/build.log" >&2; exit 1; }
    MAILGATE_BIN=$(swift build -c release --product mailgate --package-path "$ROOT" --show-bin-path)/mailgate
  fi
}
