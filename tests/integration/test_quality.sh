#!/usr/bin/env bash
# Quality measures, inpatient outcomes and the assigned population on real
# services (docs/quality.md): claimsgen emits quality-coded professional
# claims, inpatient stays (transfers, planned admissions, readmissions) and a
# roster with birth dates and sex on the attribution topic; claimsd evaluates
# the shipped config/measures. Redis must equal the generator's independent
# oracle exactly (quality.tsv, population.tsv, expected.tsv), first on a
# clean run, then on a second consumer group and key prefix whose daemon is
# SIGKILLed three times mid-stream and restarted.
source "$(dirname "$0")/lib.sh"

CLAIMS_N=${CLM_QUALITY_CLAIMS:-40000}
SEED=${CLM_QUALITY_SEED:-$RANDOM}
log "kill timing seed $SEED"
setup_topics 4 2
"$BUILD/claimsgen" --brokers "$BROKERS" --topic "$CLAIMS" --partitions 4 \
        --attribution-topic "$ATTR" --claims "$CLAIMS_N" --benes 8000 \
        --acos 5 --bad 6 --seed 23 --measures "$SRC/config/measures" \
        --out "$WORK/gen" >"$WORK/gen.log"
SUM=$WORK/gen/summary.txt
check "generator made quality claims ($(summary_of "$SUM" quality_claims))" \
        test "$(summary_of "$SUM" quality_claims)" -ge 1000
check "generator made inpatient stays ($(summary_of "$SUM" inpatient_stays)) with readmissions ($(summary_of "$SUM" outcome.readmit))" \
        test "$(summary_of "$SUM" outcome.readmit)" -ge 50
check "oracle has measure counts for every shipped 2025 measure" test \
        "$(cut -f3 "$WORK/gen/quality.tsv" | grep -c ':den$' | tr -d ' ')" -ge 5

# applied PREFIX: every partition of the claims topic and every record of
# the attribution topic applied under PREFIX.
applied() {
        local p end got
        while IFS='=' read -r k end; do
                p=${k#end.}
                got=$("${RCLI[@]}" HGET "${1}offset" "$CLAIMS/$p")
                [[ ${got:-} == "$end" ]] || return 1
        done < <(grep '^end\.' "$SUM")
        [[ $("${RCLI[@]}" HGET "${1}stats" attribution) == \
                "$(summary_of "$SUM" attribution_records)" ]]
}
wait_prefix() {
        local deadline=$((SECONDS + $2))
        until applied "$1"; do
                ((SECONDS < deadline)) || return 1
                sleep 0.5
        done
}

# same_as_oracle CONFIG: quality, population and expenditure equal the
# generator's files.
same_as_oracle() {
        local tag
        tag=$(basename "$1" .conf)
        "$BUILD/claimsctl" -c "$1" quality-counts >"$WORK/$tag-quality.tsv" &&
                diff -u "$WORK/gen/quality.tsv" "$WORK/$tag-quality.tsv" &&
                "$BUILD/claimsctl" -c "$1" population >"$WORK/$tag-pop.tsv" &&
                diff -u "$WORK/gen/population.tsv" "$WORK/$tag-pop.tsv" &&
                "$BUILD/claimsctl" -c "$1" totals >"$WORK/$tag-totals.tsv" &&
                diff -u "$WORK/gen/expected.tsv" "$WORK/$tag-totals.tsv"
}

write_config "$WORK/claimsd.conf" "quality.measures_dir = $SRC/config/measures"
"$BUILD/claimsctl" -c "$WORK/claimsd.conf" load-participants \
        "$WORK/gen/participants.csv" >/dev/null
start_daemon "$WORK/claimsd.conf" "$WORK/claimsd.log"
check "clean run: claims and attribution applied" wait_prefix claimsd: 300
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID" || true
check "clean run: measure, outcome, population and expenditure counters equal the oracle" \
        same_as_oracle "$WORK/claimsd.conf"

aco=$(head -1 "$WORK/gen/quality.tsv" | cut -f1)
"$BUILD/claimsctl" -c "$WORK/claimsd.conf" quality "$aco" --year 2025 --json \
        >"$WORK/quality.json"
check "claimsctl quality --json is valid JSON" \
        python3 -m json.tool "$WORK/quality.json" >/dev/null
want=$(awk -F'\t' -v a="$aco" '$1 == a && $3 == "001:den" { print $4 }' "$WORK/gen/quality.tsv")
check "claimsctl quality shows measure 001's denominator ($want)" python3 -c "
import json, sys
d = json.load(open('$WORK/quality.json'))
m = [x for x in d['measures'] if x['id'] == '001'][0]
sys.exit(0 if m['den'] == int('${want:-0}') else 1)"
"$BUILD/claimsctl" -c "$WORK/claimsd.conf" quality "$aco" >"$WORK/quality.txt"
check "claimsctl quality table lists the measures and the score" \
        grep -q -e "quality score" "$WORK/quality.txt"

# The same topics again under another prefix and group, with SIGKILLs.
write_config "$WORK/kill.conf" "quality.measures_dir = $SRC/config/measures" \
        "redis.prefix = claimsd:k:" "batch.size = 200" "batch.linger = 10ms"
sed -i "s/^kafka.group.id = .*/kafka.group.id = kill-$RUN_ID/" "$WORK/kill.conf"
"$BUILD/claimsctl" -c "$WORK/kill.conf" load-participants \
        "$WORK/gen/participants.csv" >/dev/null
progress() {
        local p sum=0 v
        for p in 0 1 2 3; do
                v=$("${RCLI[@]}" HGET claimsd:k:offset "$CLAIMS/$p" 2>/dev/null || true)
                sum=$((sum + ${v:-0}))
        done
        echo "$sum"
}
RANDOM=$SEED
total=$(summary_of "$SUM" messages)
kills=0
start_daemon "$WORK/kill.conf" "$WORK/kill.log"
for i in 1 2 3; do
        before=$(progress)
        deadline=$((SECONDS + 60))
        while (($(progress) == before && SECONDS < deadline)); do sleep 0.05; done
        sleep "0.$((RANDOM % 300))"
        at=$(progress)
        kill -9 "$DAEMON_PID" 2>/dev/null || true
        wait "$DAEMON_PID" 2>/dev/null || true
        ((at < total)) && kills=$((kills + 1))
        log "SIGKILL $i at $at/$total applied"
        start_daemon "$WORK/kill.conf" "$WORK/kill.log"
done
check "3 SIGKILLs landed before the end of the stream ($kills)" test "$kills" -eq 3
check "killed run: claims and attribution applied" wait_prefix claimsd:k: 300
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID" || true
check "after SIGKILLs: measure, outcome, population and expenditure counters equal the oracle" \
        same_as_oracle "$WORK/kill.conf"
finish
