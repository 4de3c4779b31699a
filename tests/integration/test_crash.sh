#!/usr/bin/env bash
# Faults on real services, one stream: claimsd is SIGKILLed at random
# moments and restarted, redis-server is SIGKILLed mid-stream and restarted
# from its AOF (appendfsync everysec: it may come back behind), and a second
# claimsd joins and leaves the group (rebalances). At the end, Redis must
# equal the generator's oracle exactly: nothing lost, nothing counted twice.
# Attribution and participants come from CSV through claimsctl here.
source "$(dirname "$0")/lib.sh"

CLAIMS_N=${CLM_CRASH_CLAIMS:-120000}
KILLS=${CLM_CRASH_KILLS:-6}
SEED=${CLM_CRASH_SEED:-$RANDOM}
log "seed $SEED"
setup_stream 4 --claims "$CLAIMS_N" --benes 15000 --acos 6 --bad 14 --seed 7
# Small batches make a kill land mid-stream with many batches in flight.
# Static membership (group.instance.id) lets each restart take the dead
# process's partitions back at once, as a systemd restart would.
write_config "$WORK/claimsd.conf" "batch.size = 200" "batch.linger = 10ms" \
        "kafka.group.instance.id = crash-a"
sed 's/^kafka.group.instance.id = .*/kafka.group.instance.id = crash-b/' \
        "$WORK/claimsd.conf" >"$WORK/claimsd-b.conf"
load_roster "$WORK/claimsd.conf"
check "CSV attribution loaded ($(summary_of "$SUM" attribution_records) beneficiaries)" \
        test "$("${RCLI[@]}" HLEN claimsd:bene:2025)" == \
        "$(summary_of "$SUM" attribution_records)"

progress() {
        local p sum=0 v
        for p in 0 1 2 3; do
                v=$("${RCLI[@]}" HGET claimsd:offset "$CLAIMS/$p" 2>/dev/null || true)
                sum=$((sum + ${v:-0}))
        done
        echo "$sum"
}

RANDOM=$SEED
total=$(summary_of "$SUM" messages)
start_daemon "$WORK/claimsd.conf" "$WORK/claimsd.log"
kills=0
midstream=0
for ((i = 1; i <= KILLS; i++)); do
        # A random moment while this daemon is applying: wait until it has
        # made progress (it first has to join the group, and after a kill
        # the group waits out the dead member's session), then 0-0.4 s more.
        before=$(progress)
        deadline=$((SECONDS + 60))
        while (($(progress) == before && SECONDS < deadline)); do
                sleep 0.05
        done
        sleep "0.$((RANDOM % 400))"
        at=$(progress)
        kill -9 "$DAEMON_PID" 2>/dev/null && kills=$((kills + 1))
        ((at > before && at < total)) && midstream=$((midstream + 1))
        wait "$DAEMON_PID" 2>/dev/null || true
        log "SIGKILL $i at $(progress)/$total applied"
        if ((i == 3)); then
                "$SRC/tools/redis.sh" kill9 "$WORK/redis" >/dev/null
                "$SRC/tools/redis.sh" start "$WORK/redis" "$REDIS_PORT" >/dev/null
                log "redis SIGKILLed and restarted from AOF at $(progress)/$total"
        fi
        start_daemon "$WORK/claimsd.conf" "$WORK/claimsd.log"
done
check "claimsd was SIGKILLed $KILLS times" test "$kills" -eq "$KILLS"
check "at least 5 kills landed mid-stream ($midstream)" test "$midstream" -ge 5

# Redis dies under a running daemon: it must pause, reconnect, re-read
# offsets and carry on.
sleep 0.5
"$SRC/tools/redis.sh" kill9 "$WORK/redis" >/dev/null
sleep 2
"$SRC/tools/redis.sh" start "$WORK/redis" "$REDIS_PORT" >/dev/null
log "redis restarted under a running daemon at $(progress)/$total"

# A second member joins (rebalance), then leaves with SIGTERM (rebalance).
start_daemon "$WORK/claimsd-b.conf" "$WORK/claimsd-2.log"
SECOND=$DAEMON_PID
sleep 3
kill -TERM "$SECOND"
rc=0
wait "$SECOND" || rc=$?
check "second member left cleanly (exit 0)" test "$rc" -eq 0

check "all partitions applied to their end offsets" wait_applied "$SUM" 300
check "after kills, a Redis crash and rebalances: totals equal the oracle" \
        totals_match "$WORK/claimsd.conf"
for s in duplicate stale dead_letter; do
        check "stats $s = $(summary_of "$SUM" "stats.$s")" \
                test "$(stat_of "$s")" == "$(summary_of "$SUM" "stats.$s")"
done
check "daemon logged a fence rejection or a resync (faults were real)" \
        grep -q -e "fence rejected" -e "resumed .* partitions from redis offsets" -e "redis unavailable" \
        "$WORK"/claimsd*.log
kill -TERM "${DAEMON_PIDS[-2]}" 2>/dev/null || true
finish
