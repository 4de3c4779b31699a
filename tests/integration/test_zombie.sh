#!/usr/bin/env bash
# A zombie member (reliability T3): claimsd A is frozen with SIGSTOP past its
# session timeout, so the group hands its partitions to claimsd B; then A is
# thawed and tries to apply what it had in hand. The offset fence must turn
# A's stale batches away, and the totals must be exact.
source "$(dirname "$0")/lib.sh"

setup_stream 4 --claims 150000 --benes 15000 --acos 4 --seed 13
write_config "$WORK/claimsd.conf" "batch.size = 200" "batch.linger = 5ms"
load_roster "$WORK/claimsd.conf"

# A stops itself with its 20th round built but not sent (test hook).
CLM_TEST_STOP_BEFORE_ROUND=20 start_daemon "$WORK/claimsd.conf" \
        "$WORK/claimsd-a.log"
A=$DAEMON_PID
until [[ $(ps -o stat= -p "$A") == T* ]]; do sleep 0.05; done
log "A froze itself mid-stream with a batch in hand"
start_daemon "$WORK/claimsd.conf" "$WORK/claimsd-b.log"
B=$DAEMON_PID
# B gets the partitions once A's session (6 s) expires.
deadline=$((SECONDS + 60))
until grep -q "assigned" "$WORK/claimsd-b.log" && \
        [[ $("${RCLI[@]}" HGET claimsd:stats batches) -gt 0 ]] ||
        ((SECONDS > deadline)); do sleep 0.2; done
sleep 2
kill -CONT "$A"
log "A thawed"
check "all partitions applied" wait_applied "$SUM" 300
sleep 2 # let A's late batches (if any) reach Redis before we compare
check "zombie: totals equal the oracle" \
        totals_match "$WORK/claimsd.conf"
check "zombie: duplicates = $(summary_of "$SUM" stats.duplicate)" \
        test "$(stat_of duplicate)" == "$(summary_of "$SUM" stats.duplicate)"
check "B took over while A was frozen" grep -q "assigned" "$WORK/claimsd-b.log"
check "A's stale batch was turned away by the fence" \
        grep -q "fence rejected" "$WORK/claimsd-a.log"
kill -TERM "$A" "$B" 2>/dev/null || true
wait "$A" "$B" 2>/dev/null || true
finish
