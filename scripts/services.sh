#!/usr/bin/env bash
# Make sure PostgreSQL and Redis answer on 127.0.0.1:5432 and :6379: start them if they are
# installed but stopped, install them (Debian packages) if they are missing.
set -euo pipefail

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
apt_install() {
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}
wait_port() {
    for _ in $(seq 1 100); do port_open "$1" && return 0; sleep 0.2; done
    echo "nothing answers on 127.0.0.1:$1" >&2
    return 1
}

if ! port_open 5432; then
    command -v pg_ctlcluster >/dev/null || apt_install postgresql
    version="$(ls /etc/postgresql | sort -V | tail -n 1)"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    wait_port 5432
    # A freshly installed server asks for a password on TCP: give postgres the one we use.
    as_root su postgres -c "psql -q -c \"ALTER USER postgres PASSWORD 'postgres'\"" || true
fi
if ! port_open 6379; then
    command -v redis-server >/dev/null || apt_install redis-server
    as_root redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' \
        --appendonly no --dir /tmp --logfile /tmp/redis-chatsite.log
    wait_port 6379
fi
