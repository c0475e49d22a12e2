#!/usr/bin/env bash
# Runs a command beside a throwaway PostgreSQL: Debian's `postgresql` (installed when
# missing), `initdb` + `pg_ctl` in a temporary directory as an unprivileged user, on
# a free loopback port. The command gets KRING_TEST_POSTGRES, a URL of the cluster's
# `postgres` database that tests create their own databases from, and
# KRING_TEST_PG_CTL, a command that stops, starts or restarts the cluster
# (`$KRING_TEST_PG_CTL stop`), and KRING_TEST_PG_BIN, the directory of its tools.
# KRING_TEST_PG_CONF adds lines to its postgresql.conf (e.g. to load
# pg_stat_statements for a profile). The cluster is stopped and removed when the
# command ends, however it ends.
#
#   scripts/with-postgres.sh cargo test -p kring-server
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [[ "$(id -u)" -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

bindir=""
find_bindir() {
    bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)"
}
find_bindir
if [[ -z "$bindir" || ! -x "$bindir/initdb" ]]; then
    echo "installing PostgreSQL (Debian's postgresql package)" >&2
    as_root apt-get install -y -qq postgresql >/dev/null \
        || { as_root apt-get update -qq && as_root apt-get install -y -qq postgresql >/dev/null; }
    find_bindir
fi
[[ -x "$bindir/initdb" ]] || { echo "no initdb after installing postgresql" >&2; exit 1; }

# PostgreSQL refuses to run as root: as root, the cluster belongs to an unprivileged
# user (Debian's `postgres`, or one made for it).
run_as=()
if [[ "$(id -u)" -eq 0 ]]; then
    user=postgres
    if ! id "$user" >/dev/null 2>&1; then
        user=kring-pg
        id "$user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
    fi
    run_as=(runuser -u "$user" --)
fi

work="$(mktemp -d /tmp/kring-pg.XXXXXX)"
chmod 0755 "$work"
if [[ ${#run_as[@]} -gt 0 ]]; then chown "$user" "$work"; fi
data="$work/data"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"

pg_ctl=("${run_as[@]}" "$bindir/pg_ctl" -D "$data" -l "$work/log" -w -t 60)
cleanup() {
    "${pg_ctl[@]}" stop -m immediate >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

"${run_as[@]}" "$bindir/initdb" -D "$data" -U kring --auth=trust --no-sync -E UTF8 >/dev/null
# Loopback only, no Unix socket outside the work directory; durable commits as in
# production (fsync on), so what the tests acknowledge is on disk.
cat >>"$data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$work'
max_connections = 300
shared_buffers = 128MB
log_min_messages = warning
${KRING_TEST_PG_CONF:-}
EOF
"${pg_ctl[@]}" start >/dev/null
echo "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (data in $data)" >&2

restart="$work/restart-postgres"
{
    echo '#!/usr/bin/env bash'
    printf '%q ' "${pg_ctl[@]}"
    echo '"${1:-restart}" -m fast >/dev/null'
} >"$restart"
chmod 0755 "$restart"

export KRING_TEST_POSTGRES="postgres://kring@127.0.0.1:$port/postgres"
export KRING_TEST_PG_CTL="$restart"
export KRING_TEST_PG_BIN="$bindir"
"$@"
