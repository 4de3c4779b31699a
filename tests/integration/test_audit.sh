#!/usr/bin/env bash
# claimsctl audit diff and audit drop (docs/replay.md) against a real
# redis-server, run as the shipped ACL users of deploy/redis-users.acl:
# claimsd-report (read only) compares, claimsctl removes. A live prefix and
# a replay namespace are filled with redis-cli (no Kafka needed): equal
# figures exit 0; one live counter altered with HINCRBY is the one
# difference reported (text, JSON, CSV) with exit 1; the received-month
# cutoff holds; a drop needs --yes, is refused while a claimsd heartbeats in
# the namespace, removes only the namespace and leaves live keys alone.
source "$(dirname "$0")/lib.sh"

# claimsctl audit talks to Redis only; the config still names Kafka.
BROKERS=${CLM_KAFKA_BOOTSTRAP:-127.0.0.1:9092}
CLAIMS=claims-$RUN_ID
ATTR=attr-$RUN_ID
DLQ=dlq-$RUN_ID
redis_up
SOCK=$WORK/redis/redis.sock
CTL=$BUILD/claimsctl

acl_user claimsctl
acl_user claimsd-report
REPORT=$WORK/claimsd-report.conf
ADMIN=$WORK/claimsctl.conf

PV=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
PAY="v1|A0001:AP:2025-03:monthly|A0001|AP|monthly|2025-03|2025|6400000|1743465600000|$PV|1||assigned=8000"

# fill PREFIX: the same business figures, and operational keys that differ.
fill() {
        local p=$1
        "${RCLI[@]}" HSET "${p}aco:A0001:exp:2025" N:03:71:202503:p 10000 \
                N:03:71:202503:a 12000 N:03:71:202503:n 1 \
                N:03:71:202505:p 700 E:04:40:202504:p 5000 >/dev/null
        "${RCLI[@]}" HSET "${p}aco:A0002:exp:2025" D:02:60:202502:p 99000 >/dev/null
        "${RCLI[@]}" HSET "${p}unattributed:2025" \
                U:03:40:202503:no_attribution:n 2 >/dev/null
        "${RCLI[@]}" HSET "${p}aco:A0001:pop:2025" N:b 120 N:m 1400 >/dev/null
        "${RCLI[@]}" HSET "${p}aco:A0001:quality:2025" 236:num 40 236:den 55 >/dev/null
        "${RCLI[@]}" HSET "${p}q:2025" ab12:236 1,1,0 >/dev/null
        "${RCLI[@]}" HSET "${p}bene:2025" ab12 A0001:N:4095:0:1950:F >/dev/null
        "${RCLI[@]}" HSET "${p}aco:A0001:payments" A0001:AP:2025-03:monthly "$PAY" >/dev/null
        "${RCLI[@]}" HSET "${p}dlq:count" bad_magic 3 >/dev/null
        "${RCLI[@]}" HSET "${p}offset" "$CLAIMS/0" "$RANDOM" >/dev/null
        "${RCLI[@]}" HSET "${p}stats" claims "$RANDOM" >/dev/null
        "${RCLI[@]}" HSET "${p}aco:A0001:projection:2025" net_cents "$RANDOM" >/dev/null
        "${RCLI[@]}" SET "${p}claim:ffee" "$RANDOM" >/dev/null
        "${RCLI[@]}" SADD "${p}acos" A0001 A0002 >/dev/null
        "${RCLI[@]}" XADD "${p}payments" '*' id A0001:AP:2025-03:monthly >/dev/null
}

# manifest NAME STATE: the replay's manifest hash.
manifest() {
        "${RCLI[@]}" HSET "claimsd:replay:$1:replay" name "$1" live_prefix claimsd: \
                state "$2" until 2025-06-30T00:00:00Z created 1750000000000 \
                finished 1750000100000 config_sha256 "$PV" claimsd_version 0.1.0 \
                topics "$CLAIMS,$ATTR" "start:$CLAIMS/0" 0 "end:$CLAIMS/0" 42 >/dev/null
}

count() { "${RCLI[@]}" --scan --pattern "$1" | wc -l; }

# run NAME CMD...: run a command, keeping stdout, stderr and the exit code.
run() {
        local name=$1
        shift
        RC=0
        "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" || RC=$?
}

fill claimsd:
fill claimsd:replay:r1:
manifest r1 complete
fill claimsd:replay:r2:
manifest r2 complete

run equal "$CTL" -c "$REPORT" audit diff --replay r1 --as-of 2025-06
check "equal prefixes: exit 0 as read-only claimsd-report" test "$RC" -eq 0
check "... one summary line: equal: N figures compared" \
        grep -qx "equal: 16 figures compared (live claimsd:, replay claimsd:replay:r1:, as of 2025-06)" "$WORK/equal.out"
check "... and nothing else" test "$(wc -l <"$WORK/equal.out")" -eq 1

"${RCLI[@]}" HINCRBY claimsd:aco:A0001:exp:2025 N:03:71:202503:p 1234 >/dev/null
run text "$CTL" -c "$REPORT" audit diff --replay r1 --as-of 2025-06
check "one live counter altered: exit 1" test "$RC" -eq 1
check "... summary says 1 difference" \
        grep -q "^1 difference in 16 figures compared" "$WORK/text.out"
check "... exactly that figure: ACO, month, figure, live, replay, diff" \
        bash -c "sed 1,2d '$WORK/text.out' | awk '{\$1=\$1; print}' |
                grep -qx 'A0001 2025-03 exp paid N/71 11934 10700 +1234' &&
                test \$(wc -l <'$WORK/text.out') -eq 3"

run json "$CTL" -c "$REPORT" audit diff --replay r1 --as-of 2025-06 --json
check "--json: exit 1, one difference with the right fields" \
        python3 - "$WORK/json.out" "$RC" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert sys.argv[2] == "1", sys.argv[2]
assert d["live_prefix"] == "claimsd:" and d["replay_prefix"] == "claimsd:replay:r1:"
assert d["as_of"] == "2025-06" and d["received_through"] == "2025-06"
assert d["manifest"]["state"] == "complete" and d["compared"] == 16
assert d["equal"] is False and len(d["differences"]) == 1, d
x = d["differences"][0]
assert (x["aco"], x["month"], x["figure"], x["kind"]) == \
        ("A0001", "2025-03", "exp paid N/71", "counter"), x
assert (x["live"], x["replay"], x["diff"]) == (11934, 10700, 1234), x
EOF

run csv "$CTL" -c "$REPORT" audit diff --replay r1 --as-of 2025-06 --csv
check "--csv: exit 1, header and one row" \
        bash -c "test $RC -eq 1 && diff <(printf '%s\n' aco,month,figure,live,replay,diff,note \
                'A0001,2025-03,exp paid N/71,11934,10700,1234,') '$WORK/csv.out'"

# A live bucket received in July is outside a June cutoff.
"${RCLI[@]}" HINCRBY claimsd:aco:A0001:exp:2025 N:03:71:202507:p 5 >/dev/null
run june "$CTL" -c "$REPORT" audit diff --replay r1 --as-of 2025-06-30T23:59:59Z --csv
check "received July: not seen as of 2025-06-30T23:59:59Z" \
        test "$RC" -eq 1 -a "$(wc -l <"$WORK/june.out")" -eq 2
run july "$CTL" -c "$REPORT" audit diff --replay r1 --as-of 2025-07-01 --csv
check "... seen as of 2025-07-01: paid 11939 vs 10700" \
        grep -qx 'A0001,2025-03,exp paid N/71,11939,10700,1239,' "$WORK/july.out"
"${RCLI[@]}" HINCRBY claimsd:aco:A0001:exp:2025 N:03:71:202507:p -5 >/dev/null
"${RCLI[@]}" HINCRBY claimsd:aco:A0001:exp:2025 N:03:71:202503:p -1234 >/dev/null

# A payment record that differs in the replay, and one due after the cutoff.
"${RCLI[@]}" HSET claimsd:replay:r1:aco:A0001:payments A0001:AP:2025-03:monthly \
        "${PAY/|6400000|/|6300000|}" >/dev/null
"${RCLI[@]}" HSET claimsd:replay:r1:aco:A0001:payments A0001:AP:2025-07:monthly \
        "${PAY/|1743465600000|/|1754006400000|}" >/dev/null
run pay "$CTL" -c "$REPORT" audit diff --replay r1 --as-of 2025-06 --csv
check "payment text differs: amounts shown, the later record ignored" \
        bash -c "test $RC -eq 1 && diff <(printf '%s\n' aco,month,figure,live,replay,diff,note \
                'A0001,2025-03,payment A0001:AP:2025-03:monthly,6400000,6300000,100000,texts differ at amount') '$WORK/pay.out'"
"${RCLI[@]}" HSET claimsd:replay:r1:aco:A0001:payments A0001:AP:2025-03:monthly "$PAY" >/dev/null
"${RCLI[@]}" HDEL claimsd:replay:r1:aco:A0001:payments A0001:AP:2025-07:monthly >/dev/null

run none "$CTL" -c "$REPORT" audit diff --replay nosuch --as-of 2025-06
check "no manifest: exit 2, says so" \
        bash -c "test $RC -eq 2 && grep -q 'no manifest hash claimsd:replay:nosuch:replay' '$WORK/none.err'"
write_config "$WORK/down.conf" "redis.unix_socket = $WORK/nowhere.sock"
run down "$CTL" -c "$WORK/down.conf" audit diff --replay r1 --as-of 2025-06
check "Redis unreachable: exit 2, says why" \
        bash -c "test $RC -eq 2 && grep -q 'claimsctl: audit diff: replay r1: ' '$WORK/down.err'"
run badtime "$CTL" -c "$REPORT" audit diff --replay r1 --as-of 2025-13
check "bad --as-of: exit 2" test "$RC" -eq 2
run noreplay "$CTL" -c "$REPORT" audit diff --as-of 2025-06
check "no --replay: exit 2" test "$RC" -eq 2
"${RCLI[@]}" HSET claimsd:replay:r1:replay state running >/dev/null
run running "$CTL" -c "$REPORT" audit diff --replay r1 --as-of 2025-06
check "a running replay: said on stderr, still compared (equal, exit 0)" \
        bash -c "test $RC -eq 0 && grep -q 'replay r1 is running, not complete' '$WORK/running.err'"
"${RCLI[@]}" HSET claimsd:replay:r1:replay state complete >/dev/null
run live "$CTL" -c "$REPORT" audit diff --live claimsd:replay:r2: --replay r1 --as-of 2025-06
check "--live PREFIX: compared with <PREFIX>replay:r1: (no manifest there)" \
        bash -c "test $RC -eq 2 && grep -q 'claimsd:replay:r2:replay:r1:replay' '$WORK/live.err'"

run ns "$CTL" -c "$REPORT" -n r2 audit diff --replay r1 --as-of 2025-06
check "under -n, live is still redis.prefix" \
        bash -c "test $RC -eq 0 && grep -q '(live claimsd:, replay claimsd:replay:r1:,' '$WORK/ns.out'"
"${RCLI[@]}" SET claimsd:replay:r2:aco:A0009:exp:2025 oops >/dev/null
run wrongtype "$CTL" -c "$REPORT" audit diff --replay r2 --as-of 2025-06
check "a figure key that is not a hash: exit 2, Redis says why" \
        bash -c "test $RC -eq 2 && grep -q WRONGTYPE '$WORK/wrongtype.err'"
"${RCLI[@]}" DEL claimsd:replay:r2:aco:A0009:exp:2025 >/dev/null

live_before=$(count 'claimsd:*')
r1_keys=$(count 'claimsd:replay:r1:*')
r2_keys=$(count 'claimsd:replay:r2:*')
run dry "$CTL" -c "$ADMIN" audit drop r1
check "drop without --yes: exit 1, how many keys, add --yes" \
        bash -c "test $RC -eq 1 && grep -qx 'would remove $r1_keys keys of replay r1 (claimsd:replay:r1:\*)' '$WORK/dry.out' &&
                grep -q 'add --yes to remove' '$WORK/dry.err'"
check "... nothing removed" test "$(count 'claimsd:replay:r1:*')" -eq "$r1_keys"
run badname "$CTL" -c "$ADMIN" audit drop 'r1*'
check "drop of a name clm_config_use_namespace rejects: exit 2" \
        bash -c "test $RC -eq 2 && grep -q 'namespace name must be' '$WORK/badname.err'"

"${RCLI[@]}" HSET claimsd:replay:r1:instance:host:4242 state running >/dev/null
"${RCLI[@]}" EXPIRE claimsd:replay:r1:instance:host:4242 30 >/dev/null
run busy "$CTL" -c "$ADMIN" audit drop r1 --yes
check "drop while a claimsd heartbeats in the namespace: refused, exit 1" \
        bash -c "test $RC -eq 1 && grep -q 'is being written' '$WORK/busy.err'"
check "... nothing removed" test "$(count 'claimsd:replay:r1:*')" -eq "$((r1_keys + 1))"
"${RCLI[@]}" DEL claimsd:replay:r1:instance:host:4242 >/dev/null
"${RCLI[@]}" HSET claimsd:replay:r1:replay state running >/dev/null
run stale "$CTL" -c "$ADMIN" audit drop r1
check "drop of a replay that is not complete, with no heartbeat: said" \
        bash -c "test $RC -eq 1 && grep -q 'replay r1 is running, not complete, and no claimsd writes it' '$WORK/stale.err'"
"${RCLI[@]}" HSET claimsd:replay:r1:replay state complete >/dev/null

run ro "$CTL" -c "$REPORT" audit drop r1 --yes
check "drop as read-only claimsd-report: refused by Redis, exit 2" \
        bash -c "test $RC -eq 2 && grep -q NOPERM '$WORK/ro.err'"
check "... nothing removed" test "$(count 'claimsd:replay:r1:*')" -eq "$r1_keys"
check "claimsctl user: UNLINK of a live key refused" \
        bash -c "redis-cli -s '$SOCK' --user claimsctl --pass \$(cat '$WORK/claimsctl.pw') \
                --no-auth-warning UNLINK claimsd:stats 2>&1 | grep -q NOPERM"

run drop "$CTL" -c "$ADMIN" audit drop r1 --yes
check "drop --yes as claimsctl: exit 0, count printed" \
        bash -c "test $RC -eq 0 && grep -qx 'removed $r1_keys keys of replay r1 (claimsd:replay:r1:\*)' '$WORK/drop.out'"
check "... the namespace is gone" test "$(count 'claimsd:replay:r1:*')" -eq 0
check "... another namespace is intact" test "$(count 'claimsd:replay:r2:*')" -eq "$r2_keys"
check "... live keys survive" \
        test "$(count 'claimsd:*')" -eq "$((live_before - r1_keys))" -a \
        "$("${RCLI[@]}" HGET claimsd:aco:A0001:exp:2025 N:03:71:202503:p)" = 10000
run gone "$CTL" -c "$REPORT" audit diff --replay r1 --as-of 2025-06
check "diff of the dropped namespace: exit 2" test "$RC" -eq 2
run again "$CTL" -c "$ADMIN" audit drop r1 --yes
check "drop it again: no such namespace, exit 2" test "$RC" -eq 2
finish
