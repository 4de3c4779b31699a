#!/usr/bin/env bash
# The demo behind `make demo` (which builds claimsd and starts the broker
# first): a synthetic Medicare FFS claim stream for a few ACOs goes through
# Kafka and claimsd into a local Redis, and the per-ACO totals read back from
# Redis are checked against the generator's independent oracle.
#
#   1. fresh redis-server under var/demo/redis (tools/redis.sh; the previous
#      demo's server and data are dropped)
#   2. fresh topics demo-claims-<stamp> (4 partitions), demo-attr-<stamp>,
#      demo-dlq-<stamp>; the previous demo's topics are deleted
#   3. var/demo/claimsd.conf and a 0600 var/demo/hash.secret
#   4. claimsgen produces DEMO_CLAIMS claims for DEMO_ACOS ACOs and writes the
#      expected totals; participants and attribution are loaded with claimsctl
#      before claimsd starts (netting.md section 4: attribution first)
#   5. claimsd runs until every partition reaches the generator's end offset,
#      then gets SIGTERM (drain, exit 0)
#   6. claimsctl report and status; totals compared with expected.tsv
#   7. claimsctl replay into the namespace "audit", claimsctl audit diff
#      against live and the HTML report var/demo/audit.html (docs/replay.md)
# Redis stays up afterwards for looking around.
#
# Environment: CLM_KAFKA_BOOTSTRAP (default: start tools/kafka.sh's broker),
# DEMO_CLAIMS (50000), DEMO_ACOS (6), DEMO_BENES (12000), DEMO_SEED (7),
# CLM_DEMO_REDIS_PORT (16380), CLM_BUILD_DIR (build).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${CLM_BUILD_DIR:-$ROOT/build}
DEMO=$ROOT/var/demo
N_CLAIMS=${DEMO_CLAIMS:-50000}
N_ACOS=${DEMO_ACOS:-6}
N_BENES=${DEMO_BENES:-12000}
SEED=${DEMO_SEED:-7}
PORT=${CLM_DEMO_REDIS_PORT:-16380}
PARTS=4
STAMP=$(date -u +%Y%m%d%H%M%S)
CLAIMS_T=demo-claims-$STAMP
ATTR_T=demo-attr-$STAMP
DLQ_T=demo-dlq-$STAMP
CONF=$DEMO/claimsd.conf
GEN=$DEMO/gen
T0=$SECONDS
DPID=""

say() { echo "[$(date +%H:%M:%S)] $*"; }
die() {
        echo "demo: $*" >&2
        exit 1
}
on_exit() {
        local rc=$?
        if [[ -n $DPID ]] && kill -0 "$DPID" 2>/dev/null; then
                kill -TERM "$DPID" 2>/dev/null || true
                wait "$DPID" 2>/dev/null || true
        fi
        ((rc == 0)) || echo "demo: failed; logs and data are in $DEMO (redis on port $PORT)" >&2
        exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for b in claimsd claimsctl claimsgen; do
        [[ -x $BUILD/$b ]] || die "$BUILD/$b missing: run 'make demo' (it builds first)"
done
if [[ -z ${CLM_KAFKA_BOOTSTRAP:-} ]]; then
        "$ROOT/tools/kafka.sh" fetch start
        CLM_KAFKA_BOOTSTRAP=$("$ROOT/tools/kafka.sh" bootstrap)
fi
BROKERS=$CLM_KAFKA_BOOTSTRAP
kcat -b "$BROKERS" -L -m 10 >/dev/null 2>&1 || die "Kafka broker at $BROKERS is not answering (tools/kafka.sh status)"

# ---- 1. Redis -------------------------------------------------------------------
mkdir -p "$DEMO"
"$ROOT/tools/redis.sh" stop "$DEMO/redis"
rm -rf "$DEMO/redis" "$GEN"
say "redis-server on 127.0.0.1:$PORT (data in var/demo/redis, AOF everysec)"
"$ROOT/tools/redis.sh" start "$DEMO/redis" "$PORT"

# ---- 2. topics --------------------------------------------------------------------
if [[ -s $DEMO/topics ]]; then
        old=()
        while read -r t; do [[ -n $t ]] && old+=(delete-topic "$t"); done <"$DEMO/topics"
        say "deleting the previous demo's topics"
        "$ROOT/tools/kafka.sh" "${old[@]}" >/dev/null 2>&1 || true
fi
say "topics $CLAIMS_T ($PARTS partitions), $ATTR_T, $DLQ_T on $BROKERS"
printf '%s\n' "$CLAIMS_T" "$ATTR_T" "$DLQ_T" >"$DEMO/topics"
"$ROOT/tools/kafka.sh" topic "$CLAIMS_T" "$PARTS" topic "$ATTR_T" 1 topic "$DLQ_T" 1

# ---- 3. config and secret -----------------------------------------------------------
if [[ ! -s $DEMO/hash.secret ]]; then
        (umask 077 && head -c 32 /dev/urandom >"$DEMO/hash.secret")
fi
chmod 600 "$DEMO/hash.secret"
cat >"$CONF" <<EOF
# Written by tools/demo.sh for this demo run; see config/claimsd.conf.example.
kafka.bootstrap.servers = $BROKERS
kafka.group.id = claimsd-demo-$STAMP
kafka.session.timeout.ms = 6000
topics.claims = $CLAIMS_T
topics.attribution = $ATTR_T
topics.dlq = $DLQ_T
redis.port = $PORT
hash.secret_file = hash.secret
batch.size = 1000
batch.linger = 50ms
log.level = notice
EOF
"$BUILD/claimsd" --check-config -c "$CONF" >/dev/null

# ---- 4. claims, participants, attribution ----------------------------------------------
say "claimsgen: $N_CLAIMS claims, $N_BENES beneficiaries, $N_ACOS ACOs (seed $SEED)"
"$BUILD/claimsgen" --brokers "$BROKERS" --topic "$CLAIMS_T" --partitions "$PARTS" \
        --claims "$N_CLAIMS" --benes "$N_BENES" --acos "$N_ACOS" --seed "$SEED" \
        --out "$GEN" >"$DEMO/claimsgen.log" 2>&1 || {
        tail -n 20 "$DEMO/claimsgen.log" >&2
        die "claimsgen failed (log: $DEMO/claimsgen.log)"
}
SUM=$GEN/summary.txt
sumval() { grep "^$1=" "$SUM" | cut -d= -f2; }
MSGS=$(sumval messages)
say "  $MSGS messages: $(sumval versions) versions ($(sumval adjustments) adjustments," \
        "$(sumval cancels) cancels), $(sumval duplicates) duplicates, $(sumval bad) bad"
"$BUILD/claimsctl" -c "$CONF" load-participants "$GEN/participants.csv" >/dev/null
"$BUILD/claimsctl" -c "$CONF" load-attribution "$GEN/attribution.csv" >/dev/null
say "  loaded $(($(wc -l <"$GEN/participants.csv") - 1)) participant ids and" \
        "$(($(wc -l <"$GEN/attribution.csv") - 1)) attribution records"

# ---- 5. claimsd -----------------------------------------------------------------------
applied() {
        local fields=() p
        for ((p = 0; p < PARTS; p++)); do fields+=("$CLAIMS_T/$p"); done
        redis-cli -p "$PORT" HMGET claimsd:offset "${fields[@]}" |
                awk '{ s += $1 } END { printf "%d\n", s }'
}
all_applied() {
        local k end p
        while IFS='=' read -r k end; do
                p=${k#end.}
                [[ $(redis-cli -p "$PORT" HGET claimsd:offset "$CLAIMS_T/$p") == "$end" ]] || return 1
        done < <(grep '^end\.' "$SUM")
}
say "claimsd -c var/demo/claimsd.conf (log: var/demo/claimsd.log)"
t_start=$(date +%s.%N)
"$BUILD/claimsd" -c "$CONF" >"$DEMO/claimsd.log" 2>&1 &
DPID=$!
deadline=$((SECONDS + 300)) next=$((SECONDS + 2))
until all_applied; do
        kill -0 "$DPID" 2>/dev/null || { tail -n 20 "$DEMO/claimsd.log" >&2; die "claimsd exited early"; }
        ((SECONDS < deadline)) || die "claimsd did not reach the end offsets within 300 s"
        if ((SECONDS >= next)); then
                say "  applied $(applied) of $MSGS messages"
                next=$((SECONDS + 2))
        fi
        sleep 0.2
done
t_done=$(date +%s.%N)
say "  all $PARTS partitions at their end offsets: $MSGS messages in" \
        "$(awk -v a="$t_start" -v b="$t_done" 'BEGIN { printf "%.1f", b - a }') s (incl. startup)"
kill -TERM "$DPID"
rc=0
wait "$DPID" || rc=$?
DPID=""
((rc == 0)) || die "claimsd exited $rc after SIGTERM (log: $DEMO/claimsd.log)"
say "  SIGTERM: claimsd drained and exited 0"

# ---- 6. read back ------------------------------------------------------------------------
echo
echo "== claimsctl report (per-ACO totals read back from Redis; ~ = unattributed) =="
"$BUILD/claimsctl" -c "$CONF" report
echo
echo "== claimsctl status =="
"$BUILD/claimsctl" -c "$CONF" status
echo
"$BUILD/claimsctl" -c "$CONF" totals >"$DEMO/totals.tsv"
ROWS=$(wc -l <"$GEN/expected.tsv")
if diff -q "$GEN/expected.tsv" "$DEMO/totals.tsv" >/dev/null; then
        echo "totals equal the generator's expected totals: YES ($ROWS rows, to the cent)"
        ok=1
else
        echo "totals equal the generator's expected totals: NO" \
                "(diff var/demo/gen/expected.tsv var/demo/totals.tsv)"
        ok=0
fi
# ---- 7. replay for audit --------------------------------------------------------------
echo
echo "== claimsctl replay: the same topics recomputed into the namespace 'audit' =="
replay_ok=0
if "$BUILD/claimsctl" -c "$CONF" replay --namespace audit \
        --attribution "$GEN/attribution.csv" --claimsd "$BUILD/claimsd" \
        --log "$DEMO/replay.log" &&
        "$BUILD/claimsctl" -c "$CONF" audit diff --replay audit --as-of 2026-12; then
        echo "replay equals live: YES (claimsctl audit diff exit 0)"
        "$BUILD/claimsctl" -c "$CONF" audit report audit -o "$DEMO/audit.html" >/dev/null &&
                echo "HTML audit report: var/demo/audit.html" && replay_ok=1
else
        echo "replay equals live: NO (see above; log: var/demo/replay.log)"
fi
cat <<EOF

demo took $((SECONDS - T0)) s. Redis is still running; from $ROOT:
  redis-cli -p $PORT --scan --pattern 'claimsd:aco:*'
  redis-cli -p $PORT HGETALL claimsd:stats
  build/claimsctl -c var/demo/claimsd.conf status      (also: report, totals)
  build/claimsctl -c var/demo/claimsd.conf -n audit totals   (the replay namespace)
  kcat -C -b $BROKERS -t $DLQ_T -e -f '%k\n'   (dead-letter keys)
  less var/demo/claimsd.log var/demo/gen/summary.txt var/demo/gen/messages.tsv
Stop everything:
  tools/redis.sh stop var/demo/redis; tools/kafka.sh stop
EOF
((ok && replay_ok))
