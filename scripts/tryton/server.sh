#!/usr/bin/env bash
# A local Tryton ERP server for the finance subgraph's Tryton adapter and its integration test.
# Run `scripts/tryton/server.sh --help` for what it does.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: scripts/tryton/server.sh [--fresh | --stop | --help]

Runs a local Tryton server (Debian's trytond) on the PostgreSQL server at PGHOST:PGPORT:
  1. installs tryton-server, tryton-modules-account-invoice and python3-psycopg2 with apt-get when missing;
  2. writes $TRYTON_HOME/trytond.conf;
  3. creates the template database c2c_tryton_template (account_invoice activated, user admin with
     password admin) when it does not exist — about 2 minutes, once;
  4. creates $TRYTON_DB from the template when it does not exist (a fraction of a second);
  5. starts trytond on 127.0.0.1:$TRYTON_PORT in the background, waits until it answers JSON-RPC and
     prints TRYTON_URL=http://admin:admin@127.0.0.1:$TRYTON_PORT/$TRYTON_DB

The database is EMPTY of business data: prepareTryton() (subgraphs/finance/src/ports/tryton/setup.ts)
creates the company, chart of accounts, fiscal year, payment term and taxes over JSON-RPC.

Options:
  --fresh   stop the server, drop $TRYTON_DB and copy it again from the template, then start
  --stop    stop the server started by this script (pid in $TRYTON_HOME/trytond.pid)
  --help    this text

Environment (defaults):
  TRYTON_HOME   .data/tryton          config, pid file, log (trytond.log) and attachments
  TRYTON_DB     c2c_tryton            the database the server serves
  TRYTON_PORT   8000                  JSON-RPC port on 127.0.0.1
  PGHOST        127.0.0.1             PostgreSQL (trust authentication expected)
  PGPORT        5432
  PGUSER        postgres

Then: TRYTON_URL=http://admin:admin@127.0.0.1:8000/c2c_tryton npx vitest run --project int subgraphs/finance/test/tryton.int.test.ts
EOF
}

MODE=start
case "${1:-}" in
  '') ;;
  --fresh) MODE=fresh ;;
  --stop) MODE=stop ;;
  -h | --help) usage; exit 0 ;;
  *) echo "server.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
esac

TRYTON_HOME="${TRYTON_HOME:-.data/tryton}"
TRYTON_DB="${TRYTON_DB:-c2c_tryton}"
TRYTON_PORT="${TRYTON_PORT:-8000}"
export PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning"
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
TEMPLATE=c2c_tryton_template
BUILD="${TEMPLATE}_build"
mkdir -p "$TRYTON_HOME"
TRYTON_HOME="$(cd "$TRYTON_HOME" && pwd)"
CONF="$TRYTON_HOME/trytond.conf"
PIDFILE="$TRYTON_HOME/trytond.pid"
LOG="$TRYTON_HOME/trytond.log"
URL="http://127.0.0.1:$TRYTON_PORT/$TRYTON_DB/"

say() { echo "tryton: $*"; }
die() { echo "tryton: ERROR: $*" >&2; exit 1; }
now() { date +%s.%N; }
since() { awk -v s="$1" -v e="$(now)" 'BEGIN { printf "%.1f s", e - s }'; }

if ! [[ "$TRYTON_DB" =~ ^[a-z_][a-z0-9_]*$ ]]; then
  die "TRYTON_DB='$TRYTON_DB' is not a plain database name (lowercase letters, digits, _)"
fi
if ! [[ "$TRYTON_PORT" =~ ^[0-9]+$ ]]; then die "TRYTON_PORT='$TRYTON_PORT' is not a port number"; fi

running_pid() {
  [[ -f "$PIDFILE" ]] || return 1
  local pid
  pid="$(cat "$PIDFILE")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

stop_server() {
  local pid
  if pid="$(running_pid)"; then
    say "stopping trytond (pid $pid)"
    kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
  else
    say "trytond is not running (no live pid in $PIDFILE)"
  fi
  rm -f "$PIDFILE"
}

if [[ "$MODE" == stop ]]; then
  stop_server
  exit 0
fi

# --- 1. packages ------------------------------------------------------------------------------
# python3-psycopg2 is only a Recommends of tryton-server, and Tryton cannot reach PostgreSQL without it.
if ! command -v trytond >/dev/null || ! [[ -d /usr/lib/python3/dist-packages/trytond/modules/account_invoice ]] ||
  ! /usr/bin/python3 -c 'import psycopg2' 2>/dev/null; then
  command -v apt-get >/dev/null || die "trytond is not installed and there is no apt-get: install Tryton (trytond with the account_invoice module) yourself"
  SUDO=()
  if [[ "$(id -u)" != 0 ]]; then
    command -v sudo >/dev/null || die "installing Tryton needs root (apt-get) and there is no sudo"
    SUDO=(sudo)
  fi
  say "installing tryton-server, tryton-modules-account-invoice and python3-psycopg2 with apt-get (about a minute)…"
  t=$(now)
  if ! "${SUDO[@]}" apt-get update -qq >"$TRYTON_HOME/apt.log" 2>&1 ||
    ! DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -q --no-install-recommends tryton-server tryton-modules-account-invoice python3-psycopg2 >>"$TRYTON_HOME/apt.log" 2>&1; then
    tail -n 15 "$TRYTON_HOME/apt.log" >&2
    die "apt-get failed (full output in $TRYTON_HOME/apt.log)"
  fi
  say "installed $(trytond --version 2>/dev/null || echo trytond) in $(since "$t")"
fi

# --- 2. PostgreSQL and the config ---------------------------------------------------------------
psql_q() { psql -X -q -v ON_ERROR_STOP=1 -d postgres "$@"; }
if ! pg_out="$(psql_q -tAc 'select 1' 2>&1)"; then
  die "PostgreSQL at $PGUSER@$PGHOST:$PGPORT is unreachable or refuses us: $pg_out"
fi
db_exists() { [[ "$(psql_q -tAc "select 1 from pg_database where datname = '$1'")" == 1 ]]; }

cat >"$CONF" <<EOF
# Written by scripts/tryton/server.sh; rewritten on every run.
[database]
uri = postgresql://$PGUSER@$PGHOST:$PGPORT/
path = $TRYTON_HOME/files
list = False

[web]
listen = 127.0.0.1:$TRYTON_PORT

[session]
# seconds; the client logs in again when a session expires
timeout = 3600
EOF
mkdir -p "$TRYTON_HOME/files"

# --- 3. the template database -------------------------------------------------------------------
if ! db_exists "$TEMPLATE"; then
  say "creating the template database $TEMPLATE (once; about 2 minutes on two cores)…"
  t=$(now)
  # Built under another name and renamed at the end, so an interrupted build is never taken for a template.
  psql_q -c "drop database if exists $BUILD"
  psql_q -c "create database $BUILD encoding 'UTF8' template template0"
  passfile="$TRYTON_HOME/admin.pass"
  printf 'admin' >"$passfile"
  say "  initialising the base modules (trytond-admin --all)…"
  if ! TRYTONPASSFILE="$passfile" trytond-admin -c "$CONF" -d "$BUILD" --all --email admin@example.invalid </dev/null >"$TRYTON_HOME/admin.log" 2>&1; then
    tail -n 20 "$TRYTON_HOME/admin.log" >&2
    die "trytond-admin --all failed (full output in $TRYTON_HOME/admin.log)"
  fi
  say "  base done in $(since "$t"); activating account_invoice and its dependencies…"
  if ! trytond-admin -c "$CONF" -d "$BUILD" -u account_invoice --activate-dependencies </dev/null >>"$TRYTON_HOME/admin.log" 2>&1; then
    tail -n 20 "$TRYTON_HOME/admin.log" >&2
    die "trytond-admin -u account_invoice failed (full output in $TRYTON_HOME/admin.log)"
  fi
  psql_q -c "alter database $BUILD rename to $TEMPLATE"
  say "template $TEMPLATE ready in $(since "$t")"
fi

# --- 4. the database ----------------------------------------------------------------------------
if [[ "$MODE" == fresh ]]; then
  stop_server
  if db_exists "$TRYTON_DB"; then
    say "dropping $TRYTON_DB"
    psql_q -c "drop database $TRYTON_DB"
  fi
fi
if ! db_exists "$TRYTON_DB"; then
  t=$(now)
  psql_q -c "create database $TRYTON_DB template $TEMPLATE"
  say "created $TRYTON_DB from $TEMPLATE in $(since "$t")"
fi

# --- 5. the server ------------------------------------------------------------------------------
login_ok() {
  curl -sS --max-time 5 -H 'content-type: application/json' \
    -d '{"id":1,"method":"common.db.login","params":["admin",{"password":"admin"}]}' "$URL" 2>/dev/null |
    grep -q '"result": *\[ *[0-9]'
}

if pid="$(running_pid)"; then
  say "trytond is already running (pid $pid)"
else
  if curl -s --max-time 2 -o /dev/null "http://127.0.0.1:$TRYTON_PORT/" 2>/dev/null; then
    die "something else already listens on 127.0.0.1:$TRYTON_PORT (choose another TRYTON_PORT)"
  fi
  t=$(now)
  say "starting trytond on 127.0.0.1:$TRYTON_PORT (log: $LOG)"
  setsid trytond -c "$CONF" -d "$TRYTON_DB" >>"$LOG" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  for _ in $(seq 1 300); do
    if login_ok; then break; fi
    if ! running_pid >/dev/null; then
      tail -n 20 "$LOG" >&2
      die "trytond exited during start (log: $LOG)"
    fi
    sleep 0.2
  done
  login_ok || die "trytond did not answer JSON-RPC on $URL within 60 s (log: $LOG)"
  say "trytond answers JSON-RPC after $(since "$t")"
fi
login_ok || die "trytond runs but admin/admin cannot log in to $TRYTON_DB (log: $LOG)"
echo "TRYTON_URL=http://admin:admin@127.0.0.1:$TRYTON_PORT/$TRYTON_DB"
