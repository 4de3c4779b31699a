#!/usr/bin/env bash
# Disposable redis-server for tests and the demo.  Everything (AOF, pid,
# log, unix socket) lives in DIR, so several instances can run side by side.
# If DIR/users.acl exists it is the server's aclfile, so ACL users survive a
# restart like the data does.
#
# Usage: tools/redis.sh start DIR PORT   start (no-op if already answering)
#        tools/redis.sh stop DIR         SHUTDOWN NOSAVE, wait for exit
#        tools/redis.sh kill9 DIR        SIGKILL (crash simulation), wait
#
# Environment: CLM_REDIS_START_TIMEOUT (seconds, default 20).
set -euo pipefail

die() {
        echo "redis.sh: $*" >&2
        exit 1
}

usage() {
        die "usage: $0 start DIR PORT | stop DIR | kill9 DIR"
}

[[ $# -ge 2 ]] || usage
CMD=$1
mkdir -p "$2"
DIR=$(cd "$2" && pwd)
SOCK=$DIR/redis.sock
PIDFILE=$DIR/redis.pid
LOG=$DIR/redis.log
# The kernel caps sun_path at 107 bytes; fail clearly instead of obscurely.
((${#SOCK} < 100)) || die "socket path too long: $SOCK"

cli() {
        redis-cli -s "$SOCK" "$@"
}

# Prints the pid if the pidfile names a live redis-server.
live_pid() {
        local pid
        [[ -f $PIDFILE ]] || return 1
        pid=$(cat "$PIDFILE")
        [[ $pid =~ ^[0-9]+$ ]] || return 1
        grep -qa 'redis-server' "/proc/$pid/cmdline" 2>/dev/null || return 1
        echo "$pid"
}

# A zombie counts as gone: in containers whose init never reaps, the
# daemonized server would otherwise look alive forever.
alive() {
        local st
        st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
        [[ -n $st && $st != Z ]]
}

wait_gone() {
        local pid=$1 i
        for ((i = 0; i < 300; i++)); do
                alive "$pid" || return 0
                sleep 0.1
        done
        return 1
}

start() {
        local port=$1 t0 acl=""
        [[ $port =~ ^[0-9]+$ ]] || usage
        if live_pid >/dev/null; then
                [[ $(cli PING 2>/dev/null) == PONG ]] && return 0
        else
                rm -f "$PIDFILE"
                # A daemonized server that fails to bind just dies; say why now.
                if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
                        die "127.0.0.1:$port is already in use"
                fi
                [[ -f $DIR/users.acl ]] && acl="aclfile $DIR/users.acl"
                redis-server - >/dev/null <<EOF || die "redis-server failed to start; see $LOG"
bind 127.0.0.1
port $port
unixsocket $SOCK
unixsocketperm 700
dir $DIR
daemonize yes
pidfile $PIDFILE
logfile $LOG
appendonly yes
appendfsync everysec
save ""
maxmemory-policy noeviction
enable-debug-command local
$acl
EOF
        fi
        t0=$SECONDS
        until [[ $(cli PING 2>/dev/null) == PONG ]]; do
                if ((SECONDS - t0 >= ${CLM_REDIS_START_TIMEOUT:-20})); then
                        echo "redis.sh: redis on $SOCK not answering; last lines of $LOG:" >&2
                        tail -n 30 "$LOG" >&2 || true
                        exit 1
                fi
                sleep 0.1
        done
}

stop() {
        local pid
        pid=$(live_pid) || { rm -f "$PIDFILE"; return 0; }
        # SHUTDOWN closes the connection, so redis-cli's status means nothing.
        cli SHUTDOWN NOSAVE >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
        wait_gone "$pid" || { kill -KILL "$pid" 2>/dev/null || true; wait_gone "$pid"; }
        rm -f "$PIDFILE"
}

kill9() {
        local pid
        pid=$(live_pid) || return 0
        kill -KILL "$pid"
        wait_gone "$pid" || die "pid $pid survived SIGKILL"
        # The socket file stays, as after a real crash; start replaces it.
        rm -f "$PIDFILE"
}

case $CMD in
start) [[ $# -eq 3 ]] || usage; start "$3" ;;
stop) stop ;;
kill9) kill9 ;;
*) usage ;;
esac
