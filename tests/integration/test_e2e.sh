#!/usr/bin/env bash
# End to end on real services: claimsgen produces >= 100,000 claims over 4
# partitions (adjustments, cancellations, duplicates, out-of-order versions,
# bad messages), attribution arrives on its Kafka topic, participants are
# loaded with claimsctl, claimsd applies everything, and Redis must equal the
# generator's independent oracle to the cent; the dead-letter topic must hold
# exactly the bad messages.
source "$(dirname "$0")/lib.sh"

CLAIMS_N=${CLM_E2E_CLAIMS:-100000}
setup_topics 4 2
EMPTY=empty-$RUN_ID
topic "$EMPTY" 1

log "generating $CLAIMS_N claims"
"$BUILD/claimsgen" --brokers "$BROKERS" --topic "$CLAIMS" --partitions 4 \
        --attribution-topic "$ATTR" --claims "$CLAIMS_N" --benes 20000 \
        --acos 8 --bad 16 --seed 42 --canary --out "$WORK/gen" >"$WORK/gen.log"
SUM=$WORK/gen/summary.txt
check "generator made >= 100000 claim messages" \
        test "$(summary_of "$SUM" messages)" -ge 100000
check "generator made >= 10 bad messages" \
        test "$(summary_of "$SUM" bad)" -ge 10

# Phase 1: only the attribution topic (claims topic empty), so every claim
# is attributed under the full roster, as the oracle assumes.
write_config "$WORK/attr.conf"
sed -i "s/^topics.claims = .*/topics.claims = $EMPTY/" "$WORK/attr.conf"
start_daemon "$WORK/attr.conf" "$WORK/claimsd-attr.log"
want=$(summary_of "$SUM" attribution_records)
deadline=$((SECONDS + 120))
until [[ $("${RCLI[@]}" HGET claimsd:stats attribution) == "$want" ]] ||
        ((SECONDS > deadline)); do sleep 0.5; done
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID"
check "attribution topic applied ($want records) and SIGTERM exits 0" \
        test "$("${RCLI[@]}" HGET claimsd:stats attribution)" == "$want"
check "one attribution entry per attributed beneficiary" test \
        "$("${RCLI[@]}" HLEN claimsd:bene:2025)" == "$want"

"$BUILD/claimsctl" -c "$WORK/attr.conf" load-participants \
        "$WORK/gen/participants.csv" >/dev/null

# Phase 2: the claims. Every command goes to SLOWLOG, so the PHI scan below
# also covers what Redis would show an operator about our calls.
"${RCLI[@]}" CONFIG SET slowlog-log-slower-than 0 >/dev/null
"${RCLI[@]}" CONFIG SET slowlog-max-len 100000 >/dev/null
write_config "$WORK/claimsd.conf"
t0=$(date +%s.%N)
start_daemon "$WORK/claimsd.conf" "$WORK/claimsd.log"
check "all partitions applied to their end offsets" wait_applied "$SUM" 300
t1=$(date +%s.%N)
kill -TERM "$DAEMON_PID"
rc=0
wait "$DAEMON_PID" || rc=$?
check "SIGTERM drains and exits 0" test "$rc" -eq 0
log "applied $(summary_of "$SUM" messages) messages in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s (includes group join)"

rows=$(wc -l <"$WORK/gen/expected.tsv")
check "Redis totals equal the oracle to the cent ($rows rows)" \
        totals_match "$WORK/claimsd.conf"

for s in claims duplicate stale cancel dead_letter markers \
        unattributed:no_attribution unattributed:not_assigned_month; do
        check "stats $s = $(summary_of "$SUM" "stats.$s")" \
                test "$(stat_of "$s")" == "$(summary_of "$SUM" "stats.$s")"
done

unattr=$(($(summary_of "$SUM" stats.unattributed:no_attribution) + \
        $(summary_of "$SUM" stats.unattributed:not_assigned_month)))
check "final log line counts $unattr unattributed claim versions (no ids)" \
        grep -q "stats: .* unattributed=$unattr " "$WORK/claimsd.log"

# Dead letters: Redis stream (exact) and the Kafka topic (exact on a clean run).
dlq_stream >"$WORK/dlq-redis.tsv"
LC_ALL=C sort "$WORK/gen/dlq.tsv" >"$WORK/dlq-want.tsv"
check "Redis dead-letter stream = the injected bad messages" \
        diff -u "$WORK/dlq-want.tsv" "$WORK/dlq-redis.tsv"
kcat -C -b "$BROKERS" -t "$DLQ" -e -q -f '%k\n' | LC_ALL=C sort >"$WORK/dlq-kafka.keys"
cut -f1 "$WORK/dlq-want.tsv" >"$WORK/dlq-want.keys"
check "dead-letter topic holds exactly the bad messages" \
        diff -u "$WORK/dlq-want.keys" "$WORK/dlq-kafka.keys"

# PHI: the canary ids must appear nowhere we control.
check "no canary id in logs" \
        bash -c "! grep -q -e 1CANARY0MB1 -e CANARYCLAIM0001 $WORK/claimsd*.log"
check "no canary id in Redis key names" \
        bash -c "! ${RCLI[*]} --scan | grep -q -e CANARY"
"${RCLI[@]}" CONFIG SET slowlog-log-slower-than 10000 >/dev/null
check "SLOWLOG recorded our calls (the scan below sees them)" \
        bash -c "${RCLI[*]} --raw SLOWLOG GET 100000 | grep -aq claimsd_apply"
check "no canary id in SLOWLOG" \
        bash -c "! ${RCLI[*]} --raw SLOWLOG GET 100000 | grep -aq CANARY"
# The AOF holds every write with its full arguments: keys, fields, values.
check "AOF is non-empty (the scan below is real)" \
        bash -c "cat $WORK/redis/appendonlydir/* | grep -aq claimsd:stats"
check "no canary id anywhere Redis persisted (AOF)" \
        bash -c "! cat $WORK/redis/appendonlydir/* | grep -aq CANARY"
check "no canary id in the dead-letter topic" \
        bash -c "! kcat -C -b $BROKERS -t $DLQ -e -q | grep -aq CANARY"

finish
