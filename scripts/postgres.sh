#!/usr/bin/env bash
# Start the Debian PostgreSQL cluster and make sure the test role and database exist.
# Prints the connection URL the tests read from TEST_DATABASE_URL. Idempotent; the password is
# random per call, so no credential is ever committed.
set -euo pipefail
# Only the URL goes to stdout: pg_ctlcluster and psql talk there too ("Removed stale pid file." on a
# machine restored from an image), so everything else is sent to stderr.
exec 3>&1 1>&2

role=tapml
database=tapml
password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')

if ! command -v pg_lsclusters >/dev/null; then
  echo "error: PostgreSQL is not installed (apt-get install -y postgresql)" >&2
  exit 1
fi
read -r version cluster port status _ data_dir _ < <(pg_lsclusters -h | head -n 1) || true
if [ -z "${version:-}" ]; then
  version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
  pg_createcluster "$version" main 3>&-
  read -r version cluster port status _ data_dir _ < <(pg_lsclusters -h | head -n 1)
fi
if [ "$status" != "online" ]; then
  # A machine restored from an image keeps the old postmaster.pid. pg_ctlcluster removes it unless the
  # pid now belongs to a process whose command line says "postgres" -- which this script's does.
  pidfile=$data_dir/postmaster.pid
  if [ -f "$pidfile" ] && [ "$(cat "/proc/$(head -n 1 "$pidfile")/comm" 2>/dev/null)" != postgres ]; then
    rm -f "$pidfile"
  fi
  pg_ctlcluster "$version" "$cluster" start 3>&-  # the server must not hold our stdout open
fi
as_postgres() { runuser -u postgres -- "$@"; }
if as_postgres psql -p "$port" -qtAc "SELECT 1 FROM pg_roles WHERE rolname='$role'" | grep -q 1; then
  as_postgres psql -p "$port" -qc "ALTER ROLE $role LOGIN SUPERUSER PASSWORD '$password'"
else
  as_postgres psql -p "$port" -qc "CREATE ROLE $role LOGIN SUPERUSER PASSWORD '$password'"
fi
as_postgres psql -p "$port" -qtAc "SELECT 1 FROM pg_database WHERE datname='$database'" | grep -q 1 ||
  as_postgres createdb -p "$port" -O "$role" "$database"
echo "postgresql://$role:$password@127.0.0.1:$port/$database" >&3
