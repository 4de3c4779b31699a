#!/usr/bin/env bash
# The payment engine on real services (docs/payments.md): a generated year
# of claims for four ACOs on different models (an Advance Payment ACO on
# BASIC A, an AIP ACO on BASIC B, an ENHANCED two-sided ACO, a Pioneer ACO
# in model year 3 with population-based payments) must issue
# exactly the payment records an independent oracle (Python, below, from the
# generator's expected_received.tsv and population.tsv) computes: upfront
# and monthly advances, AIP one-time and quarterly payments, and at run-out
# close the shared savings or losses and the recoupment of advances, each
# from the claims received by 31 March of the next year.
# Then the same claims on a topic with another partition count, consumed by
# two claimsd processes instead of one under another prefix, must give
# byte-identical records, with the parameters taken from the registry
# topic (claimsctl publish-acos) instead of claimsctl load-acos; a malformed
# parameter record there is dead-lettered as bad_parameters. A second
# registration load and a daemon restart (duplicate month closes) must
# issue nothing twice.
source "$(dirname "$0")/lib.sh"

GEN=(--claims 20000 --benes 4000 --acos 4 --bad 4 --seed 5
        --measures "$SRC/config/measures")
setup_topics 4
OTHER=claims3-$RUN_ID
PAY=payments-$RUN_ID
REGB=registry-b-$RUN_ID
topic "$OTHER" 3
topic "$PAY" 1
topic "$REGB" 1
"$BUILD/claimsgen" --brokers "$BROKERS" --topic "$CLAIMS" --partitions 4 \
        --out "$WORK/gen" "${GEN[@]}" >"$WORK/gen.log"
# Run B's claims are produced once both of its daemons hold partitions
# (below), so both apply some; the same seed gives the same files now.
"$BUILD/claimsgen" --dry-run --topic "$OTHER" --partitions 3 \
        --out "$WORK/gen3" "${GEN[@]}" >"$WORK/gen3.log"
check "both topics carry the same claims" cmp -s "$WORK/gen/expected_received.tsv" \
        "$WORK/gen3/expected_received.tsv"

# The parameters (benchmarks set around each ACO's own per-capita cost so
# the three settle differently) and the expected records, computed here
# independently of the C code.
python3 - "$WORK" <<'EOF'
import sys, collections
work = sys.argv[1]
PPM = 1_000_000
def rnd(num, den):  # round half away from zero
    q, r = divmod(abs(num), den)
    q += 1 if 2 * r >= den else 0
    return q if num >= 0 else -q
exp = collections.defaultdict(lambda: collections.Counter())
for line in open(f"{work}/gen/expected_received.tsv"):
    t, year, mm, e, tt, recv, paid, allowed, cnt = line.rstrip("\n").split("\t")
    if year == "2025" and int(recv) <= 202603 and e in "EDAN":
        exp[t][e] += int(paid)
months = collections.defaultdict(lambda: collections.Counter())
benes = collections.Counter()
for line in open(f"{work}/gen/population.tsv"):
    aco, year, e, b, m, xb, xm = line.split("\t")
    if year == "2025":
        months[aco][e] += int(m)
        benes[aco] += int(b)
def percap(aco):
    ex = sum(exp[aco].values()); mo = sum(months[aco].values())
    return rnd(12 * ex, mo)
H = 1200
factor = {"A0001": 112, "A0002": 103, "A0003": 88}
bmk = {a: rnd(percap(a) * f, 100) for a, f in factor.items()}
common = """agreement.start = 2025-01-01
agreement.end = 2029-12-31
assign.min_benes = 5000 verified
quality.era = 2021
quality.threshold = 7385 unverified
quality.alternative_met = false unverified
quality.score = 8000 unverified
"""
def bm(a):
    return "".join(f"benchmark.{e} = {bmk[a]} unverified\n" for e in "EDAN")
open(f"{work}/acos.conf", "w").write(
f"""[aco A0001 2025]
program = MSSP
ssp.track = BASIC_A
advance.model = ADVANCE_PAYMENT
{common}{bm("A0001")}msr.election = variable
sharing.rate = 400000 unverified
savings.limit = 100000 unverified
advance.upfront_fixed = 25000000 unverified
advance.upfront_per_bene = 3600 unverified
advance.monthly_per_bene = 800 unverified
advance.monthly_last = 2025-12 unverified
advance.historical_benes = {H} unverified
advance.recoup_share = 1000000 unverified
advance.forgiven_at_end = true unverified

[aco A0002 2025]
program = MSSP
ssp.track = BASIC_B
advance.model = AIP
{common}{bm("A0002")}msr.election = variable
sharing.rate = 400000 unverified
savings.limit = 100000 unverified
aip.one_time = 25000000 unverified
aip.quarters = 8 unverified
aip.bene_cap = 10000 unverified
aip.band.1.rate = 4500 unverified
aip.band.2.rate = 2500 unverified
aip.band.1.benes = 300 unverified
aip.band.2.benes = 900 unverified
advance.recoup_share = 1000000 unverified
advance.forgiven_at_end = true unverified

[aco A0003 2025]
program = MSSP
ssp.track = ENHANCED
{common}{bm("A0003")}msr.election = fixed
msr.fixed = 20000 unverified
sharing.rate = 750000 unverified
savings.limit = 200000 unverified
loss.rate_min = 400000 unverified
loss.rate_max = 750000 unverified
loss.rate_factor = 750000 unverified
loss.cap_benchmark = 150000 unverified

[aco A0004 2025]
program = PIONEER
agreement.start = 2023-01-01
agreement.end = 2027-12-31
assign.min_benes = 15000 unverified
pioneer.pbp_pct = 500000 unverified
pioneer.expected_ffs_pbpm = 80000 unverified
pioneer.aligned_benes = {H} unverified
""")
# payments.md 1.5 table: (n_lo, r_lo, r_hi); the band ends at the next n_lo - 1.
table = [(0,122000,122000),(500,122000,87000),(1000,87000,50000),(3000,50000,39000),
         (5000,39000,36000),(6000,36000,34000),(7000,34000,32000),(8000,32000,31000),
         (9000,31000,30000),(10000,30000,27000),(15000,27000,25000),(20000,25000,22000),
         (50000,22000,20000),(60000,20000,20000)]
def msr_var(n):
    for i, (lo, rlo, rhi) in enumerate(table):
        hi = table[i + 1][0] - 1 if i + 1 < len(table) else None
        if hi is None or n <= hi:
            return rlo if hi is None or hi == lo else rlo + rnd((n - lo) * (rhi - rlo), hi - lo)
def settle(aco, rate, limit, msr, loss=None, outstanding=0):
    ex = sum(exp[aco].values()); mo = sum(months[aco].values())
    bmk_x12 = mo * bmk[aco]; exp_x12 = 12 * ex
    bmk_total = rnd(bmk_x12, 12); gross = bmk_total - ex
    out = []
    if gross > 0:
        met = (bmk_x12 - exp_x12) * PPM >= msr * bmk_x12
        shared = min(rnd(rate * gross, PPM), rnd(limit * bmk_total, PPM)) if met else 0
        out.append(("shared_savings", shared))
        rec = min(outstanding, shared)
        if rec > 0:
            out.append(("recoupment", -rec))
    else:
        lrmin, lrmax, lrf, cap = loss
        met = (exp_x12 - bmk_x12) * PPM >= msr * bmk_x12
        lr = min(max(PPM - rnd(lrf * 800000, PPM), lrmin), lrmax)
        owed = min(rnd(lr * -gross, PPM), rnd(cap * bmk_total, PPM)) if met else 0
        out.append(("shared_losses", -owed))
    return out
rows = []
adv = 25000000 + 3600 * H + 12 * 800 * H
rows += [("A0001:ADVANCE_PAYMENT:2025-01-01:upfront_fixed", 25000000),
         ("A0001:ADVANCE_PAYMENT:2025-01-01:upfront_variable", 3600 * H)]
rows += [(f"A0001:ADVANCE_PAYMENT:2025-{m:02d}:monthly", 800 * H) for m in range(1, 13)]
rows += [(f"A0001:MSSP:2025:{k}", v) for k, v in
         settle("A0001", 400000, 100000, msr_var(benes["A0001"]), outstanding=adv)]
aipq = 300 * 4500 + 900 * 2500
rows += [("A0002:AIP:2025-01-01:aip_one_time", 25000000)]
rows += [(f"A0002:AIP:2025-Q{q}:aip_quarterly", aipq) for q in range(1, 5)]
rows += [(f"A0002:MSSP:2025:{k}", v) for k, v in
         settle("A0002", 400000, 100000, msr_var(benes["A0002"]),
                outstanding=25000000 + 4 * aipq)]
rows += [(f"A0003:MSSP:2025:{k}", v) for k, v in
         settle("A0003", 750000, 200000, 20000, loss=(400000, 750000, 750000, 150000))]
# Pioneer model year 3: the population-based payment each month, no
# settlement without sharing terms.
rows += [(f"A0004:PIONEER:2025-{m:02d}:pbp_monthly", rnd(500000 * 80000 * H, PPM))
         for m in range(1, 13)]
with open(f"{work}/expected-payments.tsv", "w") as f:
    for r in sorted(rows):
        f.write(f"{r[0]}\t{r[1]}\n")
EOF
log "expected payments: $(tr '\n' ' ' <"$WORK/expected-payments.tsv" | cut -c1-400)"
check "the oracle expects savings for A0001, nothing above the MSR for A0002, losses for A0003" \
        bash -c "grep -q 'A0001:MSSP:2025:shared_savings	[1-9]' '$WORK/expected-payments.tsv' &&
                grep -q 'A0001:MSSP:2025:recoupment	-' '$WORK/expected-payments.tsv' &&
                grep -q 'A0002:MSSP:2025:shared_savings	0$' '$WORK/expected-payments.tsv' &&
                grep -q 'A0003:MSSP:2025:shared_losses	-[1-9]' '$WORK/expected-payments.tsv'"

# payments PREFIX: "id<TAB>amount" of every issued record, sorted.
payments() {
        local aco
        for aco in A0001 A0002 A0003 A0004; do
                "${RCLI[@]}" --raw HGETALL "${1}aco:$aco:payments" |
                        awk 'NR % 2 == 1 { id = $0; next } { split($0, f, "|"); print id "\t" f[8] }'
        done | LC_ALL=C sort
}
# texts PREFIX: the full canonical text of every record, sorted.
texts() {
        local aco
        for aco in A0001 A0002 A0003 A0004; do
                "${RCLI[@]}" --raw HGETALL "${1}aco:$aco:payments" | awk 'NR % 2 == 0'
        done | LC_ALL=C sort
}
want=$(wc -l <"$WORK/expected-payments.tsv")
wait_records() {
        local deadline=$((SECONDS + 180))
        until [[ $(payments "$1" | wc -l) -ge $want ]]; do
                ((SECONDS < deadline)) || return 1
                sleep 0.5
        done
        sleep 2 # one more engine pass: nothing beyond the expected
}

write_config "$WORK/a.conf" "quality.measures_dir = $SRC/config/measures" \
        "topics.payments = $PAY"
"$BUILD/claimsctl" -c "$WORK/a.conf" load-participants "$WORK/gen/participants.csv" >/dev/null
"$BUILD/claimsctl" -c "$WORK/a.conf" load-attribution "$WORK/gen/attribution.csv" >/dev/null
check "claimsctl load-acos validates and stores the parameter sets" \
        "$BUILD/claimsctl" -c "$WORK/a.conf" load-acos "$WORK/acos.conf"
start_daemon "$WORK/a.conf" "$WORK/a.log"
A_PID=$DAEMON_PID
check "run A issued $want records" wait_records claimsd:
payments claimsd: >"$WORK/a.tsv"
check "run A: the records are exactly the oracle's (ids and amounts)" \
        diff -u "$WORK/expected-payments.tsv" "$WORK/a.tsv"
check "the payments stream holds one entry per record" \
        test "$("${RCLI[@]}" XLEN claimsd:payments)" -eq "$want"

# Duplicate registration and duplicate month closes: nothing new.
"$BUILD/claimsctl" -c "$WORK/a.conf" load-acos "$WORK/acos.conf" >/dev/null
kill -TERM "$A_PID"
wait "$A_PID" || true
start_daemon "$WORK/a.conf" "$WORK/a.log"
A_PID=$DAEMON_PID
sleep 4
check "a second registration and a restart issue nothing twice" \
        test "$("${RCLI[@]}" XLEN claimsd:payments)" -eq "$want"
kill -TERM "$A_PID"
wait "$A_PID" || true

# The payments topic: every record, each copy byte-identical.
kcat -C -b "$BROKERS" -t "$PAY" -e -q -f '%k\t%S\n' 2>/dev/null | LC_ALL=C sort -u >"$WORK/topic.txt"
check "the payments topic holds every record ($(wc -l <"$WORK/topic.txt") distinct key/size pairs)" \
        test "$(cut -f1 "$WORK/topic.txt" | sort -u | wc -l)" -eq "$want"
check "no record appears on the topic with two different encodings" \
        test "$(cut -f1 "$WORK/topic.txt" | sort | uniq -d | wc -l)" -eq 0

# Run B: 3 partitions, two processes, another prefix and group, and the
# parameters from its own registry topic: the valid sets, then one whose
# sharing.rate is not a canonical number (dead-lettered, daemons go on).
write_config "$WORK/b.conf" "quality.measures_dir = $SRC/config/measures" \
        "topics.payments = $PAY" "redis.prefix = claimsd:b:"
sed -i -e "s/^topics.claims = .*/topics.claims = $OTHER/" \
        -e "s/^topics.registry = .*/topics.registry = $REGB/" \
        -e "s/^kafka.group.id = .*/kafka.group.id = b-$RUN_ID/" "$WORK/b.conf"
"$BUILD/claimsctl" -c "$WORK/b.conf" load-participants "$WORK/gen3/participants.csv" >/dev/null
"$BUILD/claimsctl" -c "$WORK/b.conf" load-attribution "$WORK/gen3/attribution.csv" >/dev/null
check "claimsctl publish-acos produces the parameter sets to the registry topic" \
        "$BUILD/claimsctl" -c "$WORK/b.conf" publish-acos "$WORK/acos.conf"
# An AcoParameters record (Confluent id 40) built by hand.
python3 - "$WORK/bad-params.bin" <<'EOF'
import sys
def zz(n):
    n = (n << 1) ^ (n >> 63)
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])
def s(x):
    x = x.encode()
    return zz(len(x)) + x
figs = [("program", "MSSP"), ("ssp.track", "BASIC_A"),
        ("agreement.start", "2025-01-01"), ("agreement.end", "2029-12-31"),
        ("sharing.rate", "12.5%")]
body = s("A0009") + zz(2025) + zz(len(figs))
for k, v in figs:
    body += s(k) + s(v) + b"\x00"
body += zz(0) + zz(20089)
open(sys.argv[1], "wb").write(b"\x00\x00\x00\x00\x28" + body)
EOF
kcat -P -b "$BROKERS" -t "$REGB" -k "A0009:2025" "$WORK/bad-params.bin"
cp "$WORK/b.conf" "$WORK/b2.conf"
echo "instance.name = second-$RUN_ID" >>"$WORK/b2.conf"
start_daemon "$WORK/b.conf" "$WORK/b.log"
B1=$DAEMON_PID
start_daemon "$WORK/b2.conf" "$WORK/b2.log"
B2=$DAEMON_PID
deadline=$((SECONDS + 60))
until grep -q "assigned [1-9]" "$WORK/b.log" && grep -q "assigned [1-9]" "$WORK/b2.log" ||
        ((SECONDS > deadline)); do
        sleep 0.2
done
sleep 2 # let the group settle before the claims arrive
"$BUILD/claimsgen" --brokers "$BROKERS" --topic "$OTHER" --partitions 3 \
        --out "$WORK/gen3" "${GEN[@]}" >"$WORK/gen3.log"
check "run B issued $want records" wait_records claimsd:b:
check "the malformed parameter record was dead-lettered as bad_parameters" \
        test "$("${RCLI[@]}" HGET claimsd:b:dlq:count bad_parameters)" = 1
check "run B took its parameters from the topic (stats parameters = 4)" \
        test "$("${RCLI[@]}" HGET claimsd:b:stats parameters)" = 4
for aco in A0001 A0002 A0003 A0004; do
        "${RCLI[@]}" HGET "claimsd:aco:$aco:params" 2025 >>"$WORK/params-a.txt"
        "${RCLI[@]}" HGET "claimsd:b:aco:$aco:params" 2025 >>"$WORK/params-b.txt"
done
check "the topic's sets are stored byte for byte as load-acos stores them" \
        cmp "$WORK/params-a.txt" "$WORK/params-b.txt"
check "no value of the bad record reached the logs" \
        bash -c "! grep -q '12\.5' '$WORK/b.log' '$WORK/b2.log'"
check "both daemons of run B are still running" kill -0 "$B1" "$B2"
kill -TERM "$B1" "$B2"
wait "$B1" "$B2" || true
texts claimsd: >"$WORK/a.texts"
texts claimsd:b: >"$WORK/b.texts"
check "3 partitions and two processes: byte-identical records" \
        cmp "$WORK/a.texts" "$WORK/b.texts"
check "both processes of run B applied claims" bash -c \
        "grep -q 'claims=[1-9]' '$WORK/b.log' && grep -q 'claims=[1-9]' '$WORK/b2.log'"

# A corrected parameter (A0001's monthly advance $8 -> $9 per beneficiary)
# after the records were issued: nothing is rewritten; adjustment records
# carry the differences (12 months x 100 cents x H, and the larger
# recoupment), zero-amount ones the unchanged records.
texts claimsd: >"$WORK/before-fix.texts"
sed -i 's/^advance.monthly_per_bene = 800 /advance.monthly_per_bene = 900 /' "$WORK/acos.conf"
"$BUILD/claimsctl" -c "$WORK/a.conf" load-acos "$WORK/acos.conf" >/dev/null
start_daemon "$WORK/a.conf" "$WORK/a.log"
A_PID=$DAEMON_PID
adjusted() {
        [[ $(payments claimsd: | grep -c ':adj:') -ge 16 ]]
}
deadline=$((SECONDS + 60))
until adjusted || ((SECONDS > deadline)); do sleep 0.5; done
sleep 2
kill -TERM "$A_PID"
wait "$A_PID" || true
payments claimsd: | grep ':adj:' >"$WORK/adj.tsv"
texts claimsd: | grep -v '|adjustment|' >"$WORK/after-fix.texts"
check "every issued record stays as it was" \
        cmp -s "$WORK/before-fix.texts" "$WORK/after-fix.texts"
check "12 monthly adjustments of +$((100 * 1200)) cents" test \
        "$(grep -c ':monthly:adj:[0-9a-f]*	120000$' "$WORK/adj.tsv")" -eq 12
check "the recoupment adjusted by -$((12 * 100 * 1200)) cents" \
        grep -q "A0001:MSSP:2025:recoupment:adj:[0-9a-f]*	-1440000$" "$WORK/adj.tsv"
check "unchanged records get zero adjustments, and nothing else moves ($(wc -l <"$WORK/adj.tsv") adjustments)" \
        test "$(awk -F'\t' '$2 != 0' "$WORK/adj.tsv" | wc -l)" -eq 13 -a \
        "$(wc -l <"$WORK/adj.tsv")" -eq 16

"$BUILD/claimsctl" -c "$WORK/a.conf" aco A0001 --json >"$WORK/aco.json"
check "claimsctl aco --json is valid JSON with the payments" python3 -c "
import json
d = json.load(open('$WORK/aco.json'))
assert len(d['payments']) == $(grep -c '^A0001' "$WORK/expected-payments.tsv") + 16
assert 'benchmark.N' in d['unverified_parameters']"
"$BUILD/claimsctl" -c "$WORK/a.conf" aco A0001 >"$WORK/aco.txt"
check "claimsctl aco shows the projection steps and the recoupment" \
        grep -q "advances to recoup" "$WORK/aco.txt"
finish
