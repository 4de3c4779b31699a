#!/usr/bin/env bash
# Replay for audits (docs/replay.md) on real services. A live claimsd
# applies a generated year of claims for four ACOs (quality on, payment
# parameters from the registry topic, attribution and participants from
# CSV) and issues its payment records. Then:
# - claimsctl replay recomputes everything into a namespace with claimsd's
#   own code path; counters, measure counts, population, dead letters and
#   every payment record equal live, byte for byte, and nothing was written
#   to Kafka;
# - a second replay is SIGKILLed (claimsctl and its claimsd) halfway and
#   restarted, and ends equal to the uninterrupted one;
# - --until-offsets stops each partition exactly at the given offset;
# - explain shows the canary claim's applied versions and offsets, the
#   same live and in the namespace; refusals are clear.
source "$(dirname "$0")/lib.sh"

GEN=(--claims 20000 --benes 4000 --acos 4 --bad 6 --seed 23 --canary
        --measures "$SRC/config/measures")
setup_topics 4
PAY=payments-$RUN_ID
topic "$PAY" 1
"$BUILD/claimsgen" --brokers "$BROKERS" --topic "$CLAIMS" --partitions 4 \
        --out "$WORK/gen" "${GEN[@]}" >"$WORK/gen.log"
SUM=$WORK/gen/summary.txt

# Payment parameters with round benchmarks: the replay must reproduce
# whatever they give, so no oracle is needed here (test_payments has one).
common="agreement.start = 2025-01-01
agreement.end = 2029-12-31
assign.min_benes = 5000 verified
quality.era = 2021
quality.threshold = 7385 unverified
quality.alternative_met = false unverified
quality.score = 8000 unverified"
bm=""
for e in E D A N; do bm+="benchmark.$e = 1500000 unverified"$'\n'; done
cat >"$WORK/acos.conf" <<EOF
[aco A0001 2025]
program = MSSP
ssp.track = BASIC_A
advance.model = ADVANCE_PAYMENT
$common
${bm}msr.election = variable
sharing.rate = 400000 unverified
savings.limit = 100000 unverified
advance.upfront_fixed = 25000000 unverified
advance.upfront_per_bene = 3600 unverified
advance.monthly_per_bene = 800 unverified
advance.monthly_last = 2025-12 unverified
advance.historical_benes = 1200 unverified
advance.recoup_share = 1000000 unverified
advance.forgiven_at_end = true unverified

[aco A0003 2025]
program = MSSP
ssp.track = ENHANCED
$common
${bm}msr.election = fixed
msr.fixed = 20000 unverified
sharing.rate = 750000 unverified
savings.limit = 200000 unverified
loss.rate_min = 400000 unverified
loss.rate_max = 750000 unverified
loss.rate_factor = 750000 unverified
loss.cap_benchmark = 150000 unverified
EOF

write_config "$WORK/live.conf" "quality.measures_dir = $SRC/config/measures" \
        "topics.payments = $PAY"
load_roster "$WORK/live.conf"
"$BUILD/claimsctl" -c "$WORK/live.conf" publish-acos "$WORK/acos.conf" >/dev/null
start_daemon "$WORK/live.conf" "$WORK/live.log"
LIVE_PID=$DAEMON_PID
check "live claimsd applied every claims partition" wait_applied "$SUM" 180
payments() {
        "${RCLI[@]}" --raw HGETALL "${1}aco:A0001:payments" | awk 'NR % 2 == 0'
        "${RCLI[@]}" --raw HGETALL "${1}aco:A0003:payments" | awk 'NR % 2 == 0'
}
# The engine issues within a second of the watermark; wait until the count
# stops moving, then stop live so it is the fixed reference.
prev=-1
for _ in $(seq 1 60); do
        n=$(payments claimsd: | wc -l)
        ((n > 0 && n == prev)) && break
        prev=$n
        sleep 2
done
kill -TERM "$LIVE_PID"
wait "$LIVE_PID" || true
payments claimsd: | LC_ALL=C sort >"$WORK/live-payments.txt"
check "live issued payment records ($(wc -l <"$WORK/live-payments.txt")), settlements included" \
        grep -q ':MSSP:2025:shared_' "$WORK/live-payments.txt"

kafka_count() {
        kcat -C -b "$BROKERS" -t "$1" -e -q -f '.\n' 2>/dev/null | wc -l
}
pay_before=$(kafka_count "$PAY")
dlq_before=$(kafka_count "$DLQ")

# figures PREFIX-OPTION...: everything the audit compares, as text.
figures() {
        {
                "$BUILD/claimsctl" -c "$WORK/live.conf" "$@" totals
                "$BUILD/claimsctl" -c "$WORK/live.conf" "$@" quality-counts
                "$BUILD/claimsctl" -c "$WORK/live.conf" "$@" population
        }
}
figures >"$WORK/live-figures.txt"
check "live figures are not empty ($(wc -l <"$WORK/live-figures.txt") rows)" \
        test "$(wc -l <"$WORK/live-figures.txt")" -gt 1000

# --- a whole replay --------------------------------------------------------
t0=$(date +%s.%N)
check "claimsctl replay completes (exit 0)" \
        "$BUILD/claimsctl" -c "$WORK/live.conf" replay --namespace full \
        --attribution "$WORK/gen/attribution.csv" --log "$WORK/full.log"
t1=$(date +%s.%N)
log "replay full: $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}') s for $(summary_of "$SUM" messages) claim messages"
NS=claimsd:replay:full:
check "the manifest says complete" \
        test "$("${RCLI[@]}" HGET "${NS}replay" state)" == complete
check "the replay covered every claims partition up to the generator's end" \
        bash -c 'for p in 0 1 2 3; do
                want=$(grep "^end.$p=" "'"$SUM"'" | cut -d= -f2)
                got=$('"${RCLI[*]}"' HGET "'"$NS"'offset" "'"$CLAIMS"'/$p")
                [[ $got == "$want" ]] || exit 1
        done'
figures -n full >"$WORK/full-figures.txt"
check "replayed counters, measure counts and population equal live" \
        diff -u "$WORK/live-figures.txt" "$WORK/full-figures.txt"
payments "$NS" | LC_ALL=C sort >"$WORK/full-payments.txt"
check "replayed payment records equal live byte for byte" \
        diff -u "$WORK/live-payments.txt" "$WORK/full-payments.txt"
check "replayed dead letters equal live" \
        test "$("${RCLI[@]}" --raw HGETALL claimsd:dlq:count | paste - - | sort)" == \
        "$("${RCLI[@]}" --raw HGETALL "${NS}dlq:count" | paste - - | sort)"
check "the replay produced nothing to the payments or dead-letter topics" \
        test "$(kafka_count "$PAY") $(kafka_count "$DLQ")" == "$pay_before $dlq_before"
check "the replay's claimsd left its instance keys behind it" \
        test -z "$("${RCLI[@]}" --scan --pattern "${NS}instance*")"
check "a rerun of a complete replay does nothing and says so" \
        bash -c '"'"$BUILD/claimsctl"'" -c "'"$WORK/live.conf"'" replay --namespace full | grep -q "already complete"'

# --- audit diff against live ----------------------------------------------
rc=0
"$BUILD/claimsctl" -c "$WORK/live.conf" audit diff --replay full --as-of 2026-12 \
        >"$WORK/diff-equal.txt" 2>&1 || rc=$?
check "audit diff: the replay equals live as of 2026-12 (exit 0, $(head -c 60 "$WORK/diff-equal.txt"))" \
        test "$rc" -eq 0 -a -n "$(grep '^equal: ' "$WORK/diff-equal.txt")"
# One live counter altered by hand: exactly that figure, exit 1.
field=$("${RCLI[@]}" --raw HKEYS claimsd:aco:A0001:exp:2025 | awk '/:p$/ && !f { print; f = 1 }')
IFS=: read -r e mm tt recv _ <<<"$field"
"${RCLI[@]}" HINCRBY claimsd:aco:A0001:exp:2025 "$field" 1234 >/dev/null
rc=0
"$BUILD/claimsctl" -c "$WORK/live.conf" audit diff --replay full --as-of 2026-12 --csv \
        >"$WORK/diff.csv" 2>"$WORK/diff.err" || rc=$?
check "audit diff after one hand-altered live counter exits 1" test "$rc" -eq 1
check "... and reports exactly that figure ($(sed -n 2p "$WORK/diff.csv"))" \
        test "$(tail -n +2 "$WORK/diff.csv" | wc -l) $(sed -n 2p "$WORK/diff.csv" | cut -d, -f1-3,6)" == \
        "1 A0001,2025-$mm,exp paid $e/$tt,1234"
"${RCLI[@]}" HINCRBY claimsd:aco:A0001:exp:2025 "$field" -1234 >/dev/null

# --- explain ---------------------------------------------------------------
key=$(summary_of "$SUM" canary_key)
"$BUILD/claimsctl" -c "$WORK/live.conf" explain "$key" >"$WORK/explain-live.txt"
"$BUILD/claimsctl" -c "$WORK/live.conf" -n full explain "$key" >"$WORK/explain-full.txt"
check "explain finds the canary claim's versions with their offsets" \
        grep -Eq "^  1\. $CLAIMS/[0-3] +offset [0-9]+ +version [0-9a-f]{8}\.\." "$WORK/explain-live.txt"
check "explain tells where it counts now" grep -q -- "-> ACO A000" "$WORK/explain-live.txt"
check "explain reads the same in the namespace" \
        diff <(tail -n +2 "$WORK/explain-live.txt") <(tail -n +2 "$WORK/explain-full.txt")
sed 's/^/    /' "$WORK/explain-full.txt"
check "explain prints no beneficiary id" bash -c '! grep -q 1CANARY0MB1 "'"$WORK"'"/explain-*.txt'
rc=0
"$BUILD/claimsctl" -c "$WORK/live.conf" explain "B|B99000000000000|1CANARY0MB1" >/dev/null || rc=$?
check "explain of a claim never applied exits 1" test "$rc" -eq 1

# --- interrupted and resumed -----------------------------------------------
# Small batches so the kill lands mid-way.
write_config "$WORK/slow.conf" "quality.measures_dir = $SRC/config/measures" \
        "topics.payments = $PAY" "batch.size = 50" "batch.linger = 5ms"
NK=claimsd:replay:killed:
total=$(summary_of "$SUM" messages)
applied_ns() {
        local p sum=0 v
        for p in 0 1 2 3; do
                v=$("${RCLI[@]}" HGET "${NK}offset" "$CLAIMS/$p" 2>/dev/null || true)
                sum=$((sum + ${v:-0}))
        done
        echo "$sum"
}
"$BUILD/claimsctl" -c "$WORK/slow.conf" replay --namespace killed \
        --attribution "$WORK/gen/attribution.csv" --log "$WORK/killed.log" --quiet &
CTL=$!
deadline=$((SECONDS + 120))
until (($(applied_ns) * 3 >= total)) || ((SECONDS > deadline)); do sleep 0.05; done
at=$(applied_ns)
kill -9 "$CTL"
wait "$CTL" 2>/dev/null || true
sleep 0.5
check "SIGKILL landed mid-replay ($at/$total claim messages applied)" \
        test "$at" -gt 0 -a "$at" -lt "$total"
check "the replay's claimsd died with its claimsctl" \
        bash -c '! pgrep -f -- "[-]-replay killed" >/dev/null'
check "the killed replay's manifest is still running" \
        test "$("${RCLI[@]}" HGET "${NK}replay" state)" == running
rc=0
"$BUILD/claimsctl" -c "$WORK/live.conf" replay --namespace killed --until 2025-01-01 \
        >/dev/null 2>"$WORK/until.err" || rc=$?
check "resuming with another --until is refused (exit 2)" test "$rc" -eq 2
rc=0
"$BUILD/claimsctl" -c "$WORK/slow.conf" replay --namespace killed \
        --attribution "$WORK/gen/attribution.csv" --log "$WORK/killed.log" \
        >"$WORK/resume.out" || rc=$?
check "rerunning the same command resumes and completes" \
        test "$rc" -eq 0 -a -n "$(grep 'killed: resuming' "$WORK/resume.out")"
check "audit diff: the interrupted-and-resumed replay equals live" \
        "$BUILD/claimsctl" -c "$WORK/live.conf" audit diff --replay killed --as-of 2026-12
figures -n killed >"$WORK/killed-figures.txt"
check "the interrupted replay's figures equal the uninterrupted one's" \
        diff -u "$WORK/full-figures.txt" "$WORK/killed-figures.txt"
payments "$NK" | LC_ALL=C sort >"$WORK/killed-payments.txt"
check "the interrupted replay's payment records equal the uninterrupted one's" \
        diff -u "$WORK/full-payments.txt" "$WORK/killed-payments.txt"

# SIGTERM (or Ctrl-C) to claimsctl: claimsd drains, the replay stops
# resumable, and the command says so.
"$BUILD/claimsctl" -c "$WORK/slow.conf" replay --namespace termed \
        --log "$WORK/termed.log" --quiet 2>"$WORK/termed.err" &
CTL=$!
NT=claimsd:replay:termed:
deadline=$((SECONDS + 60))
until [[ -n $("${RCLI[@]}" HGET "${NT}offset" "$CLAIMS/0" 2>/dev/null) ]] ||
        ((SECONDS > deadline)); do sleep 0.05; done
kill -TERM "$CTL"
rc=0
wait "$CTL" || rc=$?
check "SIGTERM stops the replay resumably (exit 1, 'interrupted')" \
        test "$rc" -eq 1 -a -n "$(grep 'interrupted; run the same command' "$WORK/termed.err")"
check "claimsd drained and exited cleanly on the way" \
        grep -q "stopped" "$WORK/termed.log"
check "the stopped replay's manifest is still running" \
        test "$("${RCLI[@]}" HGET "${NT}replay" state)" == running

# --- a range ending at given offsets ---------------------------------------
: >"$WORK/ends.txt"
for p in 0 1 2 3; do
        end=$(summary_of "$SUM" "end.$p")
        echo "$CLAIMS/$p $((end / 2))" >>"$WORK/ends.txt"
done
echo "$ATTR/0 0" >>"$WORK/ends.txt"
echo "$REG/0 $(kafka_count "$REG")" >>"$WORK/ends.txt"
check "replay --until-offsets completes" \
        "$BUILD/claimsctl" -c "$WORK/live.conf" replay --namespace half \
        --until-offsets "$WORK/ends.txt" --log "$WORK/half.log" --quiet
check "each partition stopped exactly at its given offset" \
        bash -c 'while read -r tp off; do
                got=$('"${RCLI[*]}"' HGET claimsd:replay:half:offset "$tp")
                [[ ${got:-0} == "$off" ]] || { echo "$tp: $got != $off"; exit 1; }
        done <"'"$WORK/ends.txt"'"'
# On a terminal: a progress bar per topic, redrawn in place.
script -qfec "'$BUILD/claimsctl' -c '$WORK/slow.conf' replay --namespace tty \
        --until-offsets '$WORK/ends.txt' --log '$WORK/tty.log'" "$WORK/tty.out" >/dev/null
check "on a terminal, a progress bar per topic with rate and ETA" \
        bash -c 'grep -aq "$0 *\[#*\.*\] .*msg/s  ETA" "$1" && grep -aq $'"'"'\033\[2K'"'"' "$1"' \
        "$CLAIMS" "$WORK/tty.out"
printf '%s/0 5\n' "$CLAIMS" >"$WORK/short.txt"
rc=0
"$BUILD/claimsctl" -c "$WORK/live.conf" replay --namespace short \
        --until-offsets "$WORK/short.txt" >/dev/null 2>"$WORK/short.err" || rc=$?
check "an offsets file that leaves a partition out is refused (exit 2)" \
        test "$rc" -eq 2 -a -n "$(grep 'does not list' "$WORK/short.err")"

# --- refusals --------------------------------------------------------------
"${RCLI[@]}" SET claimsd:replay:taken:stray 1 >/dev/null
rc=0
"$BUILD/claimsctl" -c "$WORK/live.conf" replay --namespace taken >/dev/null 2>&1 || rc=$?
check "a namespace holding keys without a manifest is refused (exit 2)" test "$rc" -eq 2
rc=0
"$BUILD/claimsctl" -c "$WORK/live.conf" replay --namespace 'no:colons' >/dev/null 2>&1 || rc=$?
check "a bad namespace name is refused (exit 2)" test "$rc" -eq 2
write_config "$WORK/wrong.conf" "redis.prefix = claimsd:replay:full:"
rc=0
timeout 30 "$BUILD/claimsd" -c "$WORK/wrong.conf" >"$WORK/wrong.log" 2>&1 || rc=$?
check "live claimsd refuses a replay namespace as its prefix (exit 78)" \
        test "$rc" -eq 78 -a -n "$(grep 'replay namespace full' "$WORK/wrong.log")"
# claimsd refusing its configuration (a schema reference only claimsd
# resolves): claimsctl says so instead of offering a resume.
write_config "$WORK/badschema.conf" "schema.4 = claim_event" "schema.99 = no_such_schema"
rc=0
"$BUILD/claimsctl" -c "$WORK/badschema.conf" replay --namespace refused --quiet \
        --log "$WORK/refused.log" 2>"$WORK/refused.err" || rc=$?
check "a claimsd that refuses to start is reported as such (exit 1, 'exit 78, configuration')" \
        test "$rc" -eq 1 -a -n "$(grep 'claimsd refused to start (exit 78' "$WORK/refused.err")"
rc=0
timeout 30 "$BUILD/claimsd" -c "$WORK/live.conf" --replay nomanifest >"$WORK/nm.log" 2>&1 || rc=$?
check "claimsd --replay without a manifest refuses to start (exit 78)" \
        test "$rc" -eq 78 -a -n "$(grep 'no replay manifest' "$WORK/nm.log")"
"${RCLI[@]}" HSET claimsd:replay:forged:replay name other live_prefix claimsd: \
        state running >/dev/null
rc=0
timeout 30 "$BUILD/claimsd" -c "$WORK/live.conf" --replay forged >"$WORK/forged.log" 2>&1 || rc=$?
check "claimsd --replay refuses a manifest written for another namespace (exit 78)" \
        test "$rc" -eq 78 -a -n "$(grep 'is not the manifest of namespace forged' "$WORK/forged.log")"
"${RCLI[@]}" HSET claimsd:replay:badend:replay name badend live_prefix claimsd: \
        state running "end:$CLAIMS/0" 12x >/dev/null
rc=0
timeout 30 "$BUILD/claimsd" -c "$WORK/live.conf" --replay badend >"$WORK/badend.log" 2>&1 || rc=$?
check "claimsd --replay refuses a manifest with a malformed end offset (exit 78)" \
        test "$rc" -eq 78 -a -n "$(grep "end:$CLAIMS/0 is not an offset" "$WORK/badend.log")"
check "no PHI in the replay logs" \
        bash -c '! grep -q 1CANARY0MB1 "'"$WORK"'"/full.log "'"$WORK"'"/killed.log'

finish
