#!/usr/bin/env bash
# A throwaway PostgreSQL 15 server (Debian's) for the store tests, the benchmark and the scale
# test: `Scripts/pg-test-server.sh start DIR PORT [LISTEN]` creates a cluster in DIR (owned by
# the `postgres` system user, because the server refuses to run as root), with password
# authentication over TCP for the user `skygate` (password in DIR/password) and a database
# `skygate`; prints the URL. `stop DIR` stops it, `restart DIR` restarts it (fast mode: open
# connections are cut, as in a real restart). With PG_TLS_DIR set (holding server.crt and
# server.key, e.g. from Scripts/make-test-ca.sh), the new cluster takes TCP connections over TLS
# only (`hostssl`): a plain connection is refused.
set -euo pipefail
cmd=${1:?usage: pg-test-server.sh start|stop|restart DIR [PORT] [LISTEN]}
dir=${2:?data directory}
port=${3:-55432}
listen=${4:-127.0.0.1}
bin=$(ls -d /usr/lib/postgresql/15/bin 2>/dev/null || true)
[ -n "$bin" ] || { echo "PostgreSQL 15 is not installed (apt-get install postgresql-15)" >&2; exit 1; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

[ "$cmd" != start ] && [ -f "$dir/port" ] && port=$(cat "$dir/port")
case "$cmd" in
start)
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
    head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$dir/password"
    chmod 600 "$dir/password"  # skygate refuses a password file others can read
    as_pg "$bin/initdb" -D "$dir/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 -E UTF8 >/dev/null
    cat >> "$dir/data/postgresql.conf" <<CONF
listen_addresses = '$listen'
port = $port
unix_socket_directories = '$dir'
max_connections = 60
shared_buffers = 256MB
wal_level = minimal
max_wal_senders = 0
synchronous_commit = on
fsync = on
logging_collector = off
CONF
    if [ -n "${PG_TLS_DIR:-}" ]; then
      install -m 0600 "$PG_TLS_DIR/server.crt" "$PG_TLS_DIR/server.key" "$dir/data/"
      [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir/data/server.crt" "$dir/data/server.key"
      printf "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n" >> "$dir/data/postgresql.conf"
      printf 'local all all trust\nhostssl all all 0.0.0.0/0 scram-sha-256\nhostssl all all ::/0 scram-sha-256\n' > "$dir/data/pg_hba.conf"
    else
      echo "host all all 0.0.0.0/0 scram-sha-256" >> "$dir/data/pg_hba.conf"
    fi
    echo "$port" > "$dir/port"
  fi
  as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 start >/dev/null
  if ! as_pg "$bin/psql" -h "$dir" -p "$port" -U postgres -tAc "SELECT 1 FROM pg_roles WHERE rolname='skygate'" | grep -q 1; then
    as_pg "$bin/psql" -h "$dir" -p "$port" -U postgres -q \
      -c "CREATE ROLE skygate LOGIN CREATEDB PASSWORD '$(cat "$dir/password")'" -c "CREATE DATABASE skygate OWNER skygate"
  fi
  echo "postgres://skygate@$listen:$port/skygate"
  ;;
stop)
  [ -f "$dir/data/postmaster.pid" ] && as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
  ;;
restart)
  as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -m fast -w -t 30 restart >/dev/null
  ;;
psql)
  shift 2
  as_pg "$bin/psql" -h "$dir" -p "$port" -U postgres -d skygate "$@"
  ;;
*) echo "unknown command $cmd" >&2; exit 2 ;;
esac
