#!/usr/bin/env bash
# claimsctl audit report (docs/replay.md) on a replay namespace filled by the
# real pipeline: generated claims applied by a live claimsd (roster and
# parameter sets loaded with claimsctl, the payment engine issuing records),
# then recomputed into the namespace by claimsctl replay.
# The report, written as the read-only claimsd-report user, must be one
# self-contained file (no external URL, no script) that headless Chromium
# renders without a console message into a non-blank page showing the SVG
# chart; it names every ACO and every payment record, flags unverified
# parameters, and never reads a claim or beneficiary key. A namespace
# without a manifest exits 2.
source "$(dirname "$0")/lib.sh"

# CI installs chromium (tools/deps.sh): missing, this test fails, not skips.
if ! command -v chromium >/dev/null 2>&1; then
        check "chromium is installed (tools/deps.sh)" false
        finish
        exit 1
fi
log "$(chromium --version 2>/dev/null)"

NS=audit$RUN_ID
NSP=claimsd:replay:$NS:
GEN=(--claims 6000 --benes 1500 --acos 3 --bad 2 --seed 11 --canary
        --measures "$SRC/config/measures")
setup_topics 2
PAY=payments-$RUN_ID
topic "$PAY" 1
"$BUILD/claimsgen" --brokers "$BROKERS" --topic "$CLAIMS" --partitions 2 \
        --out "$WORK/gen" "${GEN[@]}" >"$WORK/gen.log"
SUM=$WORK/gen/summary.txt

# Live claimsd applies the claims and issues payments; then claimsctl
# replay recomputes them into the namespace (docs/replay.md), which is what
# the report reads.
write_config "$WORK/live.conf" "quality.measures_dir = $SRC/config/measures" \
        "topics.payments = $PAY"
CTL=("$BUILD/claimsctl" -c "$WORK/live.conf")
"${CTL[@]}" load-participants "$WORK/gen/participants.csv" >/dev/null
"${CTL[@]}" load-attribution "$WORK/gen/attribution.csv" >/dev/null
# The shipped example sets moved onto the generated ACOs and year: A0001
# takes the Advance Payment example (upfront and monthly payments, then
# the settlement and recoupment), A0002 the ENHANCED one; A0003 has
# counters and no parameters, A9004 (the shipped file as is) parameters
# and no claims.
{
        sed -e 's/^\[aco A9001 2012\]/[aco A0001 2025]/' \
                -e 's/^agreement.start = .*/agreement.start = 2025-01-01/' \
                -e 's/^agreement.end = .*/agreement.end = 2029-12-31/' \
                -e 's/^advance.monthly_last = [0-9-]*/advance.monthly_last = 2025-12/' \
                "$SRC/config/acos/example-advance-payment.conf"
        sed -e 's/^\[aco A9004 2026\]/[aco A0002 2025]/' \
                -e 's/^agreement.start = .*/agreement.start = 2025-01-01/' \
                "$SRC/config/acos/example-enhanced.conf"
} >"$WORK/acos.conf"
check "claimsctl load-acos stores the generated ACOs' parameter sets" \
        "${CTL[@]}" load-acos "$WORK/acos.conf"
check "claimsctl load-acos stores a shipped file's set" \
        "${CTL[@]}" load-acos "$SRC/config/acos/example-enhanced.conf"

start_daemon "$WORK/live.conf" "$WORK/claimsd.log"
LIVE_PID=$DAEMON_PID
settled() {
        local a
        for a in A0001 A0002; do
                "${RCLI[@]}" HKEYS "claimsd:aco:$a:payments" | grep -q ':MSSP:2025:shared_' || return 1
        done
}
check "live claimsd applied every claim" wait_applied "$SUM" 180
deadline=$((SECONDS + 180))
until settled || ((SECONDS > deadline)); do sleep 0.5; done
check "... and the payment engine settled A0001 and A0002" settled
sleep 2 # one more engine pass
kill -TERM "$LIVE_PID"
wait "$LIVE_PID" || true
check "claimsctl replay fills the namespace $NS" \
        "${CTL[@]}" replay --namespace "$NS" --attribution "$WORK/gen/attribution.csv" \
        --log "$WORK/replay.log" --quiet
check "... and the replay settled A0001 and A0002 too" \
        bash -c '[[ $('"${RCLI[*]}"' HKEYS "'"$NSP"'aco:A0001:payments" | grep -c ":MSSP:2025:shared_") -ge 1 ]]'

# The report as the read-only user of deploy/redis-users.acl.
pw=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
(umask 077 && printf '%s\n' "$pw" >"$WORK/report.pw")
# shellcheck disable=SC2046 # one rule per word
"${RCLI[@]}" ACL SETUSER claimsd-report reset ">$pw" $(acl_rules claimsd-report) >/dev/null
write_config "$WORK/report.conf" "quality.measures_dir = $SRC/config/measures" \
        "redis.user = claimsd-report" "redis.password_file = $WORK/report.pw"
REPORT=("$BUILD/claimsctl" -c "$WORK/report.conf" audit report)

"${RCLI[@]}" MONITOR >"$WORK/monitor.txt" &
MON_PID=$!
DAEMON_PIDS+=("$MON_PID")
sleep 0.5
rc=0
(cd "$WORK" && "${REPORT[@]}" "$NS") >"$WORK/report.out" 2>"$WORK/report.err" || rc=$?
sleep 0.5
kill "$MON_PID" 2>/dev/null || true
HTML=$WORK/claimsd-audit-$NS.html
check "audit report as claimsd-report exits 0" test "$rc" -eq 0
check "... writes claimsd-audit-$NS.html in the current directory and prints its path" \
        bash -c "test -s '$HTML' && test \"\$(cat '$WORK/report.out')\" = 'claimsd-audit-$NS.html'"
cat "$WORK/report.err" >&2
grep -o '"claimsd:[^"]*"' "$WORK/monitor.txt" | sort -u >"$WORK/keys.txt"
check "... reading only keys of the namespace ($(wc -l <"$WORK/keys.txt") keys and patterns)" \
        bash -c "test -s '$WORK/keys.txt' && ! grep -v '^\"$NSP' '$WORK/keys.txt'"
check "... and no claim, beneficiary, ledger, measure-role or stay key" \
        bash -c "! grep -E '^\"$NSP(claim|bene|led|q|stays):' '$WORK/keys.txt'"

rc=0
"${REPORT[@]}" "$NS" -o "$WORK/out.html" >"$WORK/o.out" || rc=$?
check "-o FILE writes FILE and prints it" \
        bash -c "test $rc -eq 0 && cmp -s <(sed '/report written/d' '$HTML') <(sed '/report written/d' '$WORK/out.html') &&
                test \"\$(cat '$WORK/o.out')\" = '$WORK/out.html'"
rc=0
"${REPORT[@]}" "nosuch$RUN_ID" -o "$WORK/none.html" 2>"$WORK/none.err" || rc=$?
check "a namespace without a manifest exits 2 and says so" \
        bash -c "test $rc -eq 2 && grep -q 'has no manifest' '$WORK/none.err' && test ! -e '$WORK/none.html'"
rc=0
"${REPORT[@]}" "bad/name" 2>/dev/null || rc=$?
check "a bad namespace name exits 2" test "$rc" -eq 2
rc=0
"${REPORT[@]}" "$NS" -o "$WORK/no/such/dir.html" >/dev/null 2>"$WORK/nodir.err" || rc=$?
check "an output file that cannot be created exits 1" \
        bash -c "test $rc -eq 1 && grep -q 'cannot create' '$WORK/nodir.err'"
# A Redis error half-way (SCAN refused) exits 1 and leaves no file.
"${RCLI[@]}" ACL SETUSER claimsd-report -scan >/dev/null
rc=0
"${REPORT[@]}" "$NS" -o "$WORK/noscan.html" >/dev/null 2>"$WORK/noscan.err" || rc=$?
"${RCLI[@]}" ACL SETUSER claimsd-report +scan >/dev/null
check "a Redis error exits 1 with Redis's reason, and no file" \
        bash -c "test $rc -eq 1 && grep -q NOPERM '$WORK/noscan.err' &&
                test ! -e '$WORK/noscan.html' && test ! -e '$WORK/noscan.html.tmp'"
rc=0
"${REPORT[@]}" --live -o "$WORK/live.html" >/dev/null || rc=$?
check "--live reports the live prefix" bash -c "test $rc -eq 0 && grep -q 'live data' '$WORK/live.html'"

# Content.
check "the report has an SVG chart per ACO-year with expenditure" \
        test "$(grep -c '<svg' "$HTML")" -ge 4
check "no src/href points outside the file" \
        bash -c "! grep -Eio '(src|href)=\"[^\"]*\"' '$HTML' | grep -Eiv 'href=\"#'"
check "no URL at all, no script" bash -c "! grep -Eiq 'https?:|//|<script' '$HTML'"
for a in A0001 A0002 A0003 A9004; do
        check "ACO $a is in the report" grep -q ">ACO $a, performance year" "$HTML"
done
"${RCLI[@]}" --raw HKEYS "${NSP}aco:A0001:payments" >"$WORK/ids.txt"
"${RCLI[@]}" --raw HKEYS "${NSP}aco:A0002:payments" >>"$WORK/ids.txt"
check "every payment record id is in the report ($(wc -l <"$WORK/ids.txt") records)" \
        bash -c "test \$(wc -l <'$WORK/ids.txt') -ge 16 &&
                ! grep -vxF -f <(grep -o '<code>[^<]*</code>' '$HTML' | sed 's/<[^>]*>//g') '$WORK/ids.txt'"
check "unverified parameters are flagged" \
        grep -q '<tr class="unv"><td><code>sharing.rate</code>.*UNVERIFIED' "$HTML"
check "the verified one is not" \
        grep -q '<code>assign.min_benes</code></td><td><code>5000</code></td><td>verified' "$HTML"
check "the manifest's ranges and state are shown" \
        bash -c "grep -q '>$CLAIMS</td>' '$HTML' && grep -q 'state-complete' '$HTML'"
check "no beneficiary or claim id in the report" \
        bash -c "! grep -q -e 1CANARY0MB1 -e CANARYCLAIM0001 '$HTML'"

# Headless Chromium: renders, logs no console message, and the page is not
# blank: the chart's bar and benchmark colours are there.
rc=0
timeout 120 chromium --headless --no-sandbox --disable-gpu \
        --user-data-dir="$WORK/chromium" --window-size=1280,4000 \
        --screenshot="$WORK/report.png" --enable-logging=stderr --v=0 \
        "file://$HTML" 2>"$WORK/chromium.log" >/dev/null || rc=$?
check "chromium --headless --screenshot exits 0" test "$rc" -eq 0
check "... writes a PNG" test -s "$WORK/report.png"
check "... with no console message (CSP violation, error, Uncaught)" \
        bash -c "! grep -E 'CONSOLE|Uncaught' '$WORK/chromium.log'"
python3 - "$WORK/report.png" >"$WORK/png.txt" <<'EOF' || true
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat = 8, b""
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
assert depth == 8 and ctype in (2, 6), f"depth {depth} type {ctype}"
bpp = 3 if ctype == 2 else 4
raw, stride = zlib.decompress(idat), w * bpp
prev, colors, nonwhite, i = bytearray(stride), {}, 0, 0
for y in range(h):
    f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
    i += 1 + stride
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0
        b, c = prev[x], prev[x - bpp] if x >= bpp else 0
        if f == 1: line[x] = (line[x] + a) & 255
        elif f == 2: line[x] = (line[x] + b) & 255
        elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    for x in range(0, stride, bpp):
        px = bytes(line[x:x + 3])
        colors[px] = colors.get(px, 0) + 1
        nonwhite += px != b"\xff\xff\xff"
    prev = line
print(f"size {w}x{h}")
print(f"colors {len(colors)}")
print(f"nonwhite {nonwhite * 1000 // (w * h)}")
print(f"bar {colors.get(bytes([0x3b, 0x6e, 0xa5]), 0)}")
print(f"benchmark {colors.get(bytes([0xc0, 0x39, 0x2b]), 0)}")
EOF
cat "$WORK/png.txt"
val() { awk -v k="$1" '$1 == k { print $2 }' "$WORK/png.txt"; }
check "the screenshot is 1280x4000" test "$(val size)" = 1280x4000
check "... has many colours ($(val colors))" test "$(val colors)" -ge 64
check "... is not blank (non-white per mille: $(val nonwhite))" test "$(val nonwhite)" -ge 20
check "... shows the chart's bars ($(val bar) px of #3b6ea5)" test "$(val bar)" -ge 2000
check "... and a benchmark line ($(val benchmark) px of #c0392b)" test "$(val benchmark)" -ge 200
finish
