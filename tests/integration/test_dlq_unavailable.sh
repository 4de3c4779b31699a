#!/usr/bin/env bash
# The dead-letter topic is missing (the broker does not auto-create topics):
# no partition may advance past a bad message whose dead-letter record is
# not out, the daemon must say why, and once the topic exists it must finish
# with exact totals and an exact dead-letter record in Redis.
source "$(dirname "$0")/lib.sh"

setup_stream 2 --claims 4000 --benes 800 --acos 2 --bad 12 --seed 31
write_config "$WORK/claimsd.conf"
sed -i "s/^topics.dlq = .*/topics.dlq = late-$RUN_ID/" "$WORK/claimsd.conf"
load_roster "$WORK/claimsd.conf"
start_daemon "$WORK/claimsd.conf" "$WORK/claimsd.log"
sleep 15

# Each partition must have stopped at or before its first bad message
# (version conflicts excepted: they are found in Redis and written after).
held=yes
for p in 0 1; do
        first_bad=$(grep "^$CLAIMS/$p/" "$WORK/gen/dlq.tsv" |
                grep -v version_conflict | cut -f1 |
                cut -d/ -f3 | sort -n | head -1)
        got=$("${RCLI[@]}" HGET claimsd:offset "$CLAIMS/$p")
        [[ -z $first_bad || ${got:-0} -le $first_bad ]] || held=no
done
check "no offset passed a bad message while its dead letter could not be written" \
        test "$held" == yes
check "the daemon says the dead-letter topic is unavailable" \
        grep -q "dead-letter topic not acknowledged" "$WORK/claimsd.log"
check "nothing dead-lettered in Redis yet" \
        test -z "$("${RCLI[@]}" HGETALL claimsd:dlq:count)"

topic "late-$RUN_ID" 1
log "dead-letter topic created"
check "all partitions applied once it exists" wait_applied "$SUM" 180
check "totals equal the oracle" totals_match "$WORK/claimsd.conf"
dlq_stream >"$WORK/dlq-redis.tsv"
check "Redis dead-letter records are exactly the bad messages" \
        diff -u <(LC_ALL=C sort "$WORK/gen/dlq.tsv") "$WORK/dlq-redis.tsv"
kcat -C -b "$BROKERS" -t "late-$RUN_ID" -e -q -f '%k\n' | LC_ALL=C sort -u \
        >"$WORK/dlq-kafka.keys"
check "the topic holds every bad message (at least once)" \
        diff -u <(cut -f1 "$WORK/gen/dlq.tsv" | LC_ALL=C sort) "$WORK/dlq-kafka.keys"
kill -TERM "$DAEMON_PID"
rc=0
wait "$DAEMON_PID" || rc=$?
check "SIGTERM exits 0" test "$rc" -eq 0
finish
