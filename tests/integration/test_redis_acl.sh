#!/usr/bin/env bash
# The shipped least-privilege Redis ACL (deploy/redis-users.acl, see
# docs/security.md), one user per role, over the unix socket: claimsd runs
# as claimsd, claimsctl loads as claimsctl and reports as claimsd-report, and
# the totals are exact. Each user is really held to its rules (no FLUSHALL,
# CONFIG, KEYS, EVAL, key outside the prefix, also from inside a function),
# and a daemon whose user lacks a command it needs says so in its log and
# keeps retrying, with nothing applied.
source "$(dirname "$0")/lib.sh"

setup_stream 2 --claims 4000 --benes 800 --acos 2 --seed 23 --canary
SOCK=$WORK/redis/redis.sock
USERS=(claimsd claimsctl claimsd-report)

# ACL SETUSER from the shipped lines, each with a fresh password file.
for u in "${USERS[@]}"; do
        acl_user "$u"
done

# as USER COMMAND...: redis-cli over the unix socket as USER.
as() {
        local u=$1
        shift
        redis-cli -s "$SOCK" --user "$u" --pass "$(cat "$WORK/$u.pw")" \
                --no-auth-warning "$@" 2>&1
}

# refuses USER COMMAND...: Redis refuses it for USER (NOPERM, or the error
# of a refused call inside a function).
refuses() { as "$@" | grep -q -e NOPERM -e "The user executing the script can't"; }

# connected USER: a client of USER is connected through the unix socket.
connected() {
        "${RCLI[@]}" CLIENT LIST | grep " user=$1 " | grep -qF " laddr=$SOCK:0 "
}

"${RCLI[@]}" ACL CAT dangerous >"$WORK/dangerous.txt"
cut -d' ' -f3- "$SRC/deploy/redis-users.acl" | tr ' ' '\n' | tr -d '()' | sed -n 's/^+//p' |
        sort -u >"$WORK/granted.txt"
check "no granted command is in @dangerous" \
        bash -c "! grep -qxF -f '$WORK/granted.txt' '$WORK/dangerous.txt'"
check "no user is granted a command category" \
        bash -c "! grep -q ' +@' '$SRC/deploy/redis-users.acl'"

load_roster "$WORK/claimsctl.conf"
start_daemon "$WORK/claimsd.conf" "$WORK/claimsd.log"
check "claimsd as ACL user claimsd over the unix socket: all applied" \
        wait_applied "$SUM" 120
check "... connected as user claimsd through the unix socket" connected claimsd
rc=0
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID" || rc=$?
check "SIGTERM exits 0" test "$rc" -eq 0
check "totals as read-only claimsd-report equal the oracle" \
        totals_match "$WORK/claimsd-report.conf"
check "claimsctl report and status as claimsd-report" \
        bash -c "'$BUILD/claimsctl' -c '$WORK/claimsd-report.conf' report >/dev/null &&
                '$BUILD/claimsctl' -c '$WORK/claimsd-report.conf' status >/dev/null"

check "claimsd: FLUSHALL refused" refuses claimsd FLUSHALL
check "claimsd: CONFIG GET refused" refuses claimsd CONFIG GET maxmemory
check "claimsd: KEYS refused" refuses claimsd KEYS '*'
check "claimsd: EVAL (arbitrary Lua) refused" refuses claimsd EVAL "return 1" 0
check "claimsd: FUNCTION DELETE refused" refuses claimsd FUNCTION DELETE claimsd
check "claimsd: DEL refused" refuses claimsd DEL claimsd:offset
check "claimsd: a key outside the prefix refused" \
        refuses claimsd HSET other:key f 1
check "claimsctl: FLUSHDB refused" refuses claimsctl FLUSHDB
check "claimsctl: FUNCTION DELETE refused" refuses claimsctl FUNCTION DELETE claimsd
check "claimsd-report: writes refused" refuses claimsd-report HSET claimsd:stats f 1
check "claimsd-report: SADD refused" refuses claimsd-report SADD claimsd:acos X
# A function's inner calls are checked against the caller's rules too.
"${RCLI[@]}" FUNCTION LOAD "#!lua name=acltest
redis.register_function('acltest_outside', function() return redis.call('HSET', 'other:key', 'f', '1') end)
redis.register_function('acltest_del', function() return redis.call('DEL', 'claimsd:offset') end)" >/dev/null
check "claimsd: a function's call on a key outside the prefix refused" \
        refuses claimsd FCALL acltest_outside 0
check "claimsd: a function's call of a command not granted refused" \
        refuses claimsd FCALL acltest_del 0
check "... and neither call had an effect" \
        test "$("${RCLI[@]}" EXISTS other:key claimsd:offset)" -eq 1

# A user without FUNCTION LOAD (say, the function loaded by an admin): the
# daemon says why, keeps running and applies nothing.
"${RCLI[@]}" ACL SETUSER claimsd -function\|load >/dev/null
"${RCLI[@]}" FLUSHALL >/dev/null
start_daemon "$WORK/claimsd.conf" "$WORK/claimsd-noperm.log"
sleep 6
check "user lacking FUNCTION LOAD: daemon still running" kill -0 "$DAEMON_PID"
check "user lacking FUNCTION LOAD: nothing applied" \
        test -z "$("${RCLI[@]}" HGETALL claimsd:offset)"
check "user lacking FUNCTION LOAD: the log says so" \
        grep -q "FUNCTION LOAD: NOPERM" "$WORK/claimsd-noperm.log"
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID" || true

check "no beneficiary or claim id in any log" \
        bash -c "! grep -q -e 1CANARY0MB1 -e CANARYCLAIM0001 $WORK/claimsd*.log"
check "no password in any log" bash -c "! grep -qF -f <(cat $WORK/*.pw) $WORK/claimsd*.log"
finish
