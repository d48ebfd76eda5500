#!/usr/bin/env bash
# The deployment of deploy/ on this machine, on loopback, under load (a bench, not CI):
# nginx on a high port in front of two `starmark serve` processes, the demo data on a
# PostgreSQL database made for the run, DATABASE_REPLICA_URL set (to the same database
# unless SMOKE_REPLICA_URL names a replica). Then wrk:
#   1. 200 connections for 60 s to /v/{number} through nginx: errors (expected 0) and p99
#      (wrk's timeout 10 s: an answer slower than that counts as an error);
#   2. the same for 30 s, one app process killed 10 s in: the errors that costs.
# It stops by itself and removes what it made. Needs nginx, wrk (apt-get install nginx wrk),
# psql and PostgreSQL on 127.0.0.1:5432 (trust), and the project's .venv (make test).
# Usage: deploy/smoke.sh   (SMOKE_SECONDS=60 SMOKE_CONNECTIONS=200 SMOKE_PORT=18480)
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${SMOKE_SECONDS:-60}
connections=${SMOKE_CONNECTIONS:-200}
nginx_port=${SMOKE_PORT:-18480}
app_ports=(18481 18482)
pg="postgresql://postgres@127.0.0.1:5432"
db="starmark_smoke_$$"
starmark="$PWD/.venv/bin/starmark"
for tool in nginx wrk psql "$starmark"; do
  command -v "$tool" >/dev/null || { echo "smoke: $tool is missing" >&2; exit 2; }
done

work=$(mktemp -d /tmp/starmark-smoke.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  set +e
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  wait 2>/dev/null
  psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
  rm -rf "$work"
}
trap cleanup EXIT

psql -q -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE $db"
export DATABASE_URL="$pg/$db"
export DATABASE_REPLICA_URL="${SMOKE_REPLICA_URL:-$DATABASE_URL}"
export STARMARK_DATA_DIR="$work/data"
export STARMARK_KEY_PASSPHRASE="smoke test passphrase, not a secret"
# 200 connections from one address: the per-address limits would refuse most of them.
export STARMARK_RATE_LIMITS="verify_page=1000000000/minute"
export STARMARK_PUBLIC_URL="http://127.0.0.1:$nginx_port"
"$starmark" db migrate >/dev/null 2>&1
"$starmark" demo >/dev/null 2>&1
number=$(psql -h 127.0.0.1 -U postgres -d "$db" -Atc \
  "SELECT number FROM certificate WHERE status = 'valid' ORDER BY number LIMIT 1")

# The two processes of starmark@.service, one per port.
for port in "${app_ports[@]}"; do
  "$starmark" serve --no-migrate --host 127.0.0.1 --port "$port" >"$work/app-$port.log" 2>&1 &
  pids+=($!)
done

# deploy/nginx.conf's upstream and proxy settings, on loopback without TLS; no proxy cache,
# so that every request reaches an app (the bench measures the apps behind nginx).
cat >"$work/nginx.conf" <<EOF
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $work/client_body;
    proxy_temp_path $work/proxy;
    fastcgi_temp_path $work/fastcgi;
    uwsgi_temp_path $work/uwsgi;
    scgi_temp_path $work/scgi;
    upstream starmark {
        server 127.0.0.1:${app_ports[0]} max_fails=1 fail_timeout=5s;
        server 127.0.0.1:${app_ports[1]} max_fails=1 fail_timeout=5s;
        keepalive 64;
    }
    server {
        listen 127.0.0.1:$nginx_port;
        add_header Strict-Transport-Security "max-age=31536000; includeSubDomains" always;
        location / {
            proxy_pass http://starmark;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$host;
            proxy_next_upstream error timeout http_502 http_503;
        }
    }
}
EOF
nginx -p "$work" -c "$work/nginx.conf"

url="http://127.0.0.1:$nginx_port/v/$number"
for _ in $(seq 1 60); do
  ok=0
  for port in "${app_ports[@]}"; do
    curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && ok=$((ok + 1))
  done
  [ "$ok" = 2 ] && curl -fsS -o /dev/null "$url" && break
  sleep 1
done
curl -fsS -o /dev/null "$url" || { echo "smoke: $url does not answer" >&2; exit 1; }
curl -sSI "$url" | grep -qi '^strict-transport-security:' || { echo "smoke: no HSTS" >&2; exit 1; }

errors() { # wrk's output -> failed requests (non-2xx/3xx answers and socket errors)
  awk '/Non-2xx or 3xx responses/ {n += $NF}
       /Socket errors/ {gsub(/,/, ""); n += $4 + $6 + $8 + $10}
       END {print n + 0}' "$1"
}

echo "== $connections connections, ${seconds}s, GET $url (nginx -> 2 apps, PostgreSQL)"
wrk -t2 -c"$connections" -d"${seconds}s" --timeout 10s --latency "$url" >"$work/steady.txt"
grep -E 'Requests/sec|Latency |99%|requests in|Socket errors|Non-2xx' "$work/steady.txt"
echo "errors: $(errors "$work/steady.txt")"

kill_after=10
echo "== the same for 30s, the app on ${app_ports[0]} killed (SIGKILL) after ${kill_after}s"
wrk -t2 -c"$connections" -d30s --timeout 10s --latency "$url" >"$work/kill.txt" &
wrk_pid=$!
sleep "$kill_after"
kill -9 "${pids[0]}"
wait "$wrk_pid" 2>/dev/null || true
grep -E 'Requests/sec|99%|requests in|Socket errors|Non-2xx' "$work/kill.txt"
echo "errors: $(errors "$work/kill.txt")"
