#!/usr/bin/env bash
# Starts or stops a throwaway PostgreSQL cluster for the tests (ctest runs it as the fixture
# "postgres" of every test that needs the server; a user may run it by hand too).
#   tests/postgres/cluster.sh start DIR   initdb in DIR/data, listen on the socket in DIR/sock
#   tests/postgres/cluster.sh stop DIR    stop it and remove DIR
#   tests/postgres/cluster.sh url DIR     print the libpq URL of the cluster
#   tests/postgres/cluster.sh down DIR    stop the server (fast shutdown), keep its data
#   tests/postgres/cluster.sh up DIR      start a server stopped by down again
# The server listens on a Unix socket in DIR/sock only (no TCP port), so it can collide with
# no other server on the machine, Debian's own cluster included. Authentication is "trust"
# for the postgres user. Running as root (CI), the server runs as the postgres user: DIR and
# its parents must be enterable by it. Needs Debian's postgresql package (15); without it the
# fixture fails, and with it every test that needs it.
set -euo pipefail

cmd=${1:?usage: cluster.sh start|stop|url|down|up DIR}
base=${2:?usage: cluster.sh start|stop|url|down|up DIR}

url() { echo "postgresql:///postgres?host=${base}/sock&user=postgres"; }

pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
as_server() {
  if (( EUID == 0 )); then runuser -u postgres -- "$@"; else "$@"; fi
}

stop() {
  if [[ -n "$pgbin" && -f "$base/data/postmaster.pid" ]]; then
    # immediate: no shutdown checkpoint, the data is thrown away next.
    as_server "$pgbin/pg_ctl" -D "$base/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
  fi
  rm -rf "$base"
}

serve() {
  # pg_ctl -w waits until the server accepts connections (or fails after -t seconds).
  if ! as_server "$pgbin/pg_ctl" -D "$base/data" -l "$base/server.log" -w -t 30 \
       -o "-c listen_addresses='' -k $base/sock -c max_connections=200" start >/dev/null; then
    cat "$base/server.log" >&2
    exit 1
  fi
}

case "$cmd" in
  url) url ;;
  stop) stop ;;
  down) as_server "$pgbin/pg_ctl" -D "$base/data" -m fast -w -t 30 stop >/dev/null ;;
  up) serve ;;
  start)
    if [[ -z "$pgbin" || ! -x "$pgbin/initdb" ]]; then
      echo "cluster.sh: the PostgreSQL server is not installed" \
           "(apt-get install postgresql, or deploy/install-deps.sh --test)" >&2
      exit 1
    fi
    stop  # what an interrupted earlier run left
    mkdir -p "$base/sock"
    (( EUID == 0 )) && chown -R postgres:postgres "$base"
    # --no-sync: a crash of the machine loses a throwaway cluster anyway (the server itself
    # keeps fsync and synchronous_commit on, as in production).
    as_server "$pgbin/initdb" -D "$base/data" -U postgres --auth=trust -E UTF8 --no-sync \
      --locale=C.UTF-8 >"$base/initdb.log" 2>&1 || { cat "$base/initdb.log" >&2; exit 1; }
    serve
    "$pgbin/psql" "$(url)" -qAtc "SELECT 'PostgreSQL ' || current_setting('server_version')"
    ;;
  *) echo "usage: cluster.sh start|stop|url|down|up DIR" >&2; exit 2 ;;
esac
