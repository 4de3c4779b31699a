#!/usr/bin/env bash
# Redis with an ACL user: claimsd and claimsctl authenticate with redis.user
# and redis.password_file, a wrong password keeps the daemon retrying with
# nothing applied (and says so), and the right one lets it finish exactly.
source "$(dirname "$0")/lib.sh"

setup_stream 2 --claims 5000 --benes 1000 --acos 2 --seed 21
"${RCLI[@]}" ACL SETUSER claimsd on '>s3cret-pw' '~claimsd:*' '+@all' >/dev/null
"${RCLI[@]}" ACL SETUSER default off >/dev/null
RCLI=(redis-cli -p "$REDIS_PORT" --user claimsd --pass s3cret-pw --no-auth-warning)

printf 'wrong-pw\n' >"$WORK/redis.pw"
chmod 600 "$WORK/redis.pw"
write_config "$WORK/claimsd.conf" "redis.user = claimsd" \
        "redis.password_file = $WORK/redis.pw"
start_daemon "$WORK/claimsd.conf" "$WORK/claimsd-bad.log"
sleep 4
check "wrong password: daemon keeps running" kill -0 "$DAEMON_PID"
check "wrong password: nothing applied" \
        test -z "$("${RCLI[@]}" HGETALL claimsd:offset)"
check "wrong password: the log says why" \
        grep -q "redis unavailable (AUTH:" "$WORK/claimsd-bad.log"
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID" || true

printf 's3cret-pw\n' >"$WORK/redis.pw"
load_roster "$WORK/claimsd.conf"
start_daemon "$WORK/claimsd.conf" "$WORK/claimsd.log"
check "right password: all partitions applied" wait_applied "$SUM" 120
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID" || true
check "ACL user: totals equal the oracle" \
        totals_match "$WORK/claimsd.conf"
check "no password in any log" \
        bash -c "! grep -q s3cret $WORK/claimsd*.log"
finish
