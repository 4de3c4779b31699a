#!/usr/bin/env bash
# Re-attribution moves history (docs/quality.md section 1), on real services.
#
# Live run: the roster is loaded, claimsd starts applying the claims, and
# when about half of them are applied, 100 beneficiaries change assignment
# (moves to another ACO, terminations, month-mask and enrollment changes,
# first assignments of beneficiaries whose claims were unattributed), loaded
# through the same Redis function with claimsctl.
# Clean run: the same claims, another topic, group and key prefix, with the
# final roster in place from the start.
# Both must hold exactly the same expenditure, quality, outcome and
# population counters, equal to the generator's oracle, and the live run's
# audit stream must show history that actually moved.
source "$(dirname "$0")/lib.sh"

CLAIMS_N=${CLM_REATTR_CLAIMS:-60000}
GEN=(--partitions 4 --claims "$CLAIMS_N" --benes 10000 --acos 5 --bad 4
        --seed 31 --reattribute 100 --measures "$SRC/config/measures")
setup_topics 4
CLEAN=clean-$RUN_ID
topic "$CLEAN" 4
"$BUILD/claimsgen" --brokers "$BROKERS" --topic "$CLAIMS" --out "$WORK/gen" \
        "${GEN[@]}" >"$WORK/gen.log"
"$BUILD/claimsgen" --brokers "$BROKERS" --topic "$CLEAN" --out "$WORK/gen2" \
        --final-attribution-first "${GEN[@]}" >"$WORK/gen2.log"
SUM=$WORK/gen/summary.txt
check "both streams carry the same claims (sequence digest)" test \
        "$(summary_of "$SUM" sequence_fnv64)" == \
        "$(summary_of "$WORK/gen2/summary.txt" sequence_fnv64)"
check "the oracle is the same for both (final attribution)" \
        cmp -s "$WORK/gen/quality.tsv" "$WORK/gen2/quality.tsv"
check "100 beneficiaries change assignment" \
        test "$(summary_of "$SUM" reattributed_benes)" -eq 100

# The generator's update records as claimsctl CSV rows, in delivery order
# (an empty ACO terminates the assignment).
awk -F'\t' -v y="$(summary_of "$SUM" year)" '
        BEGIN { n["E"] = "ESRD"; n["D"] = "DISABLED"; n["A"] = "AGED_DUAL";
                n["N"] = "AGED_NON_DUAL" }
        /^#/ { next }
        $2 == "TERMINATE" { print $1 ",," y; next }
        { print $1 "," $7 "," y "," n[$8] "," $9 "," $10 "," $12 "," $13 }' \
        "$WORK/gen/reattribution.tsv" >"$WORK/updates.csv"

write_config "$WORK/live.conf" "quality.measures_dir = $SRC/config/measures" \
        "batch.size = 500"
write_config "$WORK/clean.conf" "quality.measures_dir = $SRC/config/measures" \
        "redis.prefix = claimsd:c:"
sed -i -e "s/^topics.claims = .*/topics.claims = $CLEAN/" \
        -e "s/^kafka.group.id = .*/kafka.group.id = clean-$RUN_ID/" \
        "$WORK/clean.conf"
for c in live clean; do
        g=$WORK/gen
        [[ $c == clean ]] && g=$WORK/gen2
        "$BUILD/claimsctl" -c "$WORK/$c.conf" load-participants \
                "$g/participants.csv" >/dev/null
        "$BUILD/claimsctl" -c "$WORK/$c.conf" load-attribution \
                "$g/attribution.csv" >/dev/null
done

offsets() {
        local sum=0 p v
        for p in 0 1 2 3; do
                v=$("${RCLI[@]}" HGET "${1}offset" "$2/$p")
                sum=$((sum + ${v:-0}))
        done
        echo "$sum"
}
total=$(summary_of "$SUM" messages)
start_daemon "$WORK/live.conf" "$WORK/live.log"
LIVE=$DAEMON_PID
deadline=$((SECONDS + 120))
until (($(offsets claimsd: "$CLAIMS") * 2 >= total)) || ((SECONDS > deadline)); do
        sleep 0.05
done
at=$(offsets claimsd: "$CLAIMS")
"$BUILD/claimsctl" -c "$WORK/live.conf" load-attribution "$WORK/updates.csv" \
        >"$WORK/updates.log"
log "updates loaded at $at/$total claim messages applied"
check "updates arrived mid-stream ($at of $total messages applied)" \
        test "$at" -lt "$total"
start_daemon "$WORK/clean.conf" "$WORK/clean.log"

done_at() {
        [[ $(offsets "$1" "$2") == "$total" ]]
}
wait_done() {
        local deadline=$((SECONDS + 300))
        until done_at "$1" "$2"; do
                ((SECONDS < deadline)) || return 1
                sleep 0.5
        done
}
check "live run applied every claim" wait_done claimsd: "$CLAIMS"
check "clean run applied every claim" wait_done claimsd:c: "$CLEAN"
kill -TERM "$LIVE" "$DAEMON_PID"
wait "$LIVE" "$DAEMON_PID" || true

for c in live clean; do
        for what in totals quality-counts population; do
                "$BUILD/claimsctl" -c "$WORK/$c.conf" "$what" >"$WORK/$c.$what"
        done
done
for what in totals quality-counts population; do
        check "live = clean: $what ($(wc -l <"$WORK/live.$what") rows)" \
                diff -u "$WORK/clean.$what" "$WORK/live.$what"
done
check "live = oracle: expenditure" diff -u "$WORK/gen/expected.tsv" "$WORK/live.totals"
check "live = oracle: measures and outcomes" diff -u "$WORK/gen/quality.tsv" "$WORK/live.quality-counts"
check "live = oracle: population" diff -u "$WORK/gen/population.tsv" "$WORK/live.population"

moved=$("${RCLI[@]}" --raw XRANGE claimsd:reattribution - + |
        awk 'prev == "months" && $0 != "0" { n++ } { prev = $0 } END { print n + 0 }')
check "audit stream: $moved changes moved counted history" test "$moved" -ge 10
check "stats reattributed >= $(summary_of "$SUM" stats.reattributed.min)" test \
        "$(stat_of reattributed)" -ge "$(summary_of "$SUM" stats.reattributed.min)"
"${RCLI[@]}" --raw XRANGE claimsd:reattribution - + >"$WORK/audit.txt"
cut -d, -f1 "$WORK/updates.csv" >"$WORK/updated-mbis.txt"
check "no beneficiary id in the audit stream" \
        test "$(grep -c -F -x -f "$WORK/updated-mbis.txt" "$WORK/audit.txt")" -eq 0
finish
