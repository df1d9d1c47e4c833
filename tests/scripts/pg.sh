#!/bin/sh
# pg.sh start DIR | stop DIR - a throwaway PostgreSQL cluster for the tests:
# `start` creates one in DIR (Debian's server binaries, 127.0.0.1 only, a
# free port, trust auth, no durability) with a database `articles` and prints
# its URL; `stop` stops it and removes DIR. Works as root (the server then
# runs as the `postgres` system user) and as a normal user, and never relies
# on a server started by hand.
set -eu

usage() {
    echo "usage: $0 start|stop DIR" >&2
    exit 2
}

[ $# -eq 2 ] || usage
cmd=$1
dir=$2

# Any PG* variable of the caller's shell (PGHOST, PGPORT, PGDATA...) would
# redirect our tools to another server.
unset PGHOST PGHOSTADDR PGPORT PGUSER PGDATABASE PGDATA PGSERVICE PGOPTIONS \
    PGPASSWORD PGSSLMODE 2>/dev/null || true

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
    echo "pg.sh: no PostgreSQL server binaries under /usr/lib/postgresql/*/bin" >&2
    exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
    # initdb and the server refuse to run as root.
    runas=postgres
    dbuser=postgres
    id "$runas" >/dev/null 2>&1 || { echo "pg.sh: running as root needs a 'postgres' user" >&2; exit 1; }
else
    runas=
    dbuser=$(id -un)
fi

# Runs a command as the cluster's owner, from / so an unreadable working
# directory of the caller does not matter.
as_owner() {
    if [ -n "$runas" ]; then
        (cd / && runuser -u "$runas" -- "$@")
    else
        (cd / && "$@")
    fi
}

abspath() {
    case $1 in
    /*) printf '%s\n' "$1" ;;
    *) printf '%s/%s\n' "$(pwd)" "$1" ;;
    esac
}

# A port the kernel reports free; without python3, a pseudo-random one in the
# dynamic range (a taken one just makes the start below try again).
free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()' 2>/dev/null ||
        echo $((49152 + ($$ * 7919 + $(date +%N | sed 's/^0*//;s/^$/0/')) % 16000))
}

stop_cluster() {
    # DIR/data is the data directory, or a symlink to one in /tmp when the
    # cluster owner could not write into DIR.
    data=$1/data
    if [ -f "$data/postmaster.pid" ]; then
        as_owner "$bindir/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    if [ -L "$data" ]; then
        rm -rf "$(readlink "$data")"
    fi
    rm -rf "$1"
}

start_cluster() {
    # A leftover cluster in DIR (an aborted earlier run) is discarded.
    [ -e "$1" ] && stop_cluster "$1"
    mkdir -p "$1"
    data=$1/data
    if [ -n "$runas" ]; then
        chown "$runas" "$1"
        if ! runuser -u "$runas" -- test -w "$1" 2>/dev/null; then
            # DIR is below a directory the owner cannot enter (e.g. /root).
            real=$(mktemp -d /tmp/pgsh.XXXXXX)
            chown "$runas" "$real"
            ln -s "$real" "$data"
            data=$real
        fi
    fi

    if ! as_owner "$bindir/initdb" -D "$data" -U "$dbuser" -A trust -E UTF8 \
        --locale=C --no-sync >"$1/initdb.log" 2>&1; then
        cat "$1/initdb.log" >&2
        return 1
    fi
    # Tests want speed, not durability. The C locale makes ILIKE fold ASCII
    # only, exactly like SQLite's LIKE, so both back ends answer the same.
    cat >>"$data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$data'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 300
logging_collector = off
include_if_exists = 'port.conf'
EOF

    # The port is picked free, but another process may take it before the
    # server binds it: then try another one. It goes into the configuration
    # (not the command line) so a plain `pg_ctl start` of the cluster works.
    tries=0
    while :; do
        port=$(free_port)
        echo "port = $port" >"$data/port.conf"
        if as_owner "$bindir/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
            start >/dev/null 2>&1; then
            break
        fi
        tries=$((tries + 1))
        if [ "$tries" -ge 5 ]; then
            echo "pg.sh: the server does not start; its log:" >&2
            cat "$data/server.log" >&2 || true
            return 1
        fi
    done

    if ! as_owner "$bindir/createdb" -h 127.0.0.1 -p "$port" -U "$dbuser" articles >"$1/createdb.log" 2>&1; then
        cat "$1/createdb.log" >&2
        return 1
    fi
    echo "postgresql://$dbuser@127.0.0.1:$port/articles"
}

dir=$(abspath "$dir")
case $cmd in
start)
    if ! start_cluster "$dir"; then
        stop_cluster "$dir"
        exit 1
    fi
    ;;
stop) stop_cluster "$dir" ;;
*) usage ;;
esac
