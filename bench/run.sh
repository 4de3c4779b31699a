#!/usr/bin/env bash
# claimsd throughput benchmark (not a test; see bench/README.md).
#
# One run, on this machine, against the local broker (tools/kafka.sh) and a
# fresh redis-server (tools/redis.sh, AOF appendfsync everysec), with private
# copies of the build/ binaries:
#   1. claimsgen writes CLAIMS distinct claims to a fresh PARTITIONS-partition
#      topic; participants and attribution are loaded with claimsctl.
#   2. baseline: build/rawconsume reads the same topic (no decode, no Redis).
#   3. claimsd end to end at BATCH_SIZE/BATCH_LINGER: rate from the first
#      applied offset until every partition reaches the generator's end
#      offset; RSS sampled every second; totals and stats must equal the
#      generator's oracle or the bench fails (exit 1).
#   4. baseline: redis-benchmark SET, INCR and HINCRBY (-P 100) on the same
#      Redis, after claimsd's run (so its AOF traffic does not slow claimsd).
#   4b. with REPLAY=on: claimsctl replay of the same topic into a namespace
#      on the same Redis (docs/replay.md), timed from its first applied
#      offset and from the command's start; its totals must equal the oracle.
#   5. claimsd at batch.size = 1 on another fresh Redis and consumer group,
#      same topic, stopped after BATCH1_SECONDS; rate from offsets applied.
# Prints every figure and the ratios, and writes them as key=value lines to
# var/bench/results-<timestamp>.txt. Exit 0 whether targets are met or not;
# exit 1 only on a wrong answer or a broken run.
#
# Environment (defaults): CLAIMS (300000), PARTITIONS (4), BENES (CLAIMS/5),
# ACOS (10), SEED (1), BATCH_SIZE (1000), BATCH_LINGER (50ms), QUALITY (on:
# quality.measures_dir = config/measures and the quality, outcome and
# population counters checked against the oracle; off: expenditure only),
# BATCH1_SECONDS (60), REDIS_BENCH_N (1000000), REDIS_APPENDONLY (yes; "no"
# turns the main Redis's AOF off to measure its cost), BENCH_KEEP (unset:
# delete the work dir, topics and Redis data after a good run),
# CLM_BUILD_DIR (build), CLM_KAFKA_BOOTSTRAP (unset: tools/kafka.sh's broker,
# started and stopped here if it is not already running).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${CLM_BUILD_DIR:-$ROOT/build}
CLAIMS=${CLAIMS:-300000}
PARTITIONS=${PARTITIONS:-4}
BENES=${BENES:-$((CLAIMS / 5 > 100 ? CLAIMS / 5 : 100))}
ACOS=${ACOS:-10}
SEED=${SEED:-1}
BATCH_SIZE=${BATCH_SIZE:-1000}
BATCH_LINGER=${BATCH_LINGER:-50ms}
BATCH1_SECONDS=${BATCH1_SECONDS:-60}
QUALITY=${QUALITY:-on}
REPLAY=${REPLAY:-on}
REDIS_BENCH_N=${REDIS_BENCH_N:-1000000}
TARGET_RATE=100000
TARGET_VS_BATCH1=20

TS=$(date -u +%Y%m%dT%H%M%SZ)
ID=$(date -u +%Y%m%d%H%M%S)-$$
OUTDIR=$ROOT/var/bench
WORK=$OUTDIR/run-$TS
RESULTS=$OUTDIR/results-$TS.txt
TOPIC=bench-claims-$ID
ATTR=bench-attr-$ID
DLQ=bench-dlq-$ID
KAFKA=$ROOT/tools/kafka.sh
REDIS=$ROOT/tools/redis.sh

T_START=$SECONDS
STARTED_BROKER=0
TOPICS_MADE=0
OK=0
PIDS=()
REDIS_DIRS=()

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
die() {
        log "bench: $*"
        exit 1
}
# calc EXPR: floating point arithmetic, printed with up to 3 decimals.
calc() { awk "BEGIN { v = $1; if (v == int(v)) printf \"%d\n\", v; else printf \"%.3f\n\", v }"; }
# fmt N: a rate or count rounded to an integer.
fmt() { awk -v v="$1" 'BEGIN { printf "%.0f", v }'; }
summary_of() { grep "^$2=" "$1" | cut -d= -f2; }
result() {
        # result KEY VALUE: one key=value line in the results file.
        echo "$1=$2" >>"$RESULTS"
}

cleanup() {
        local rc=$? p d
        for p in "${PIDS[@]:-}"; do
                [[ -n $p ]] && kill -KILL "$p" 2>/dev/null || true
        done
        for d in "${REDIS_DIRS[@]:-}"; do
                [[ -n $d ]] && "$REDIS" stop "$d" >/dev/null 2>&1 || true
        done
        if ((OK)) && [[ -z ${BENCH_KEEP:-} ]]; then
                ((TOPICS_MADE)) && "$KAFKA" delete-topic "$TOPIC" delete-topic "$ATTR" \
                        delete-topic "$DLQ" >/dev/null 2>&1 || true
                rm -rf "$WORK"
        else
                echo "bench: work dir kept: $WORK (topics $TOPIC, $ATTR, $DLQ kept)" >&2
        fi
        if ((STARTED_BROKER)); then
                log "stopping the broker this run started"
                "$KAFKA" stop || true
        fi
        exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for b in claimsd claimsctl claimsgen rawconsume; do
        [[ -x $BUILD/$b ]] || die "$BUILD/$b missing: run 'make build' (or cmake --build build) first"
done
for c in redis-server redis-cli redis-benchmark kcat awk; do
        command -v "$c" >/dev/null || die "'$c' not found (run tools/deps.sh)"
done
mkdir -p "$WORK/bin"
: >"$RESULTS"
# Run private copies: a rebuild of build/ during the run (another shell,
# an IDE) would otherwise mix two versions of the daemon and its tools.
for b in claimsd claimsctl claimsgen rawconsume; do cp "$BUILD/$b" "$WORK/bin/"; done
BUILD=$WORK/bin
result claimsd_version "$("$BUILD/claimsd" --version | awk '{ print $2 }')"
if command -v git >/dev/null && git -C "$ROOT" rev-parse --git-dir >/dev/null 2>&1; then
        # GIT_OPTIONAL_LOCKS=0: a read-only look that never rewrites the index.
        dirty=$(GIT_OPTIONAL_LOCKS=0 git -C "$ROOT" status --porcelain --untracked-files=no \
                -- daemon consumers schemas tools CMakeLists.txt | wc -l)
        result git_head "$(git -C "$ROOT" rev-parse --short HEAD)$( ((dirty == 0)) || echo "+$dirty-modified-files")"
fi

# ---- broker ------------------------------------------------------------------
if [[ -n ${CLM_KAFKA_BOOTSTRAP:-} ]]; then
        BROKERS=$CLM_KAFKA_BOOTSTRAP
elif "$KAFKA" status >/dev/null 2>&1; then
        BROKERS=$("$KAFKA" bootstrap)
else
        log "no broker running: starting one (it is stopped at the end)"
        STARTED_BROKER=1
        "$KAFKA" fetch start
        BROKERS=$("$KAFKA" bootstrap)
fi
kcat -b "$BROKERS" -L -m 10 >/dev/null 2>&1 || die "Kafka broker at $BROKERS is not answering"

# ---- helpers -------------------------------------------------------------------
new_redis() {
        # new_redis NAME: fresh redis-server in $WORK/NAME; sets PORT.
        # Ports come from below the kernel's ephemeral range (32768+ here):
        # a port held by an outgoing connection passes a connect probe but
        # fails redis-server's bind, so a failed start is retried elsewhere.
        local dir=$WORK/$1 i
        REDIS_DIRS+=("$dir")
        for ((i = 0; i < 5; i++)); do
                PORT=$((20000 + RANDOM % 12000))
                (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && continue
                "$REDIS" start "$dir" "$PORT" >/dev/null 2>"$WORK/redis-start.err" && return 0
        done
        cat "$WORK/redis-start.err" >&2
        die "could not start redis-server in $dir"
}

write_config() {
        # write_config FILE PORT GROUP BATCH_SIZE
        {
                echo "kafka.bootstrap.servers = $BROKERS"
                echo "kafka.group.id = $3"
                echo "kafka.session.timeout.ms = 6000"
                echo "hash.secret_file = $WORK/hash.secret"
                echo "redis.port = $2"
                echo "topics.claims = $TOPIC"
                echo "topics.attribution = $ATTR"
                echo "topics.dlq = $DLQ"
                echo "batch.size = $4"
                echo "batch.linger = $BATCH_LINGER"
                echo "log.level = notice"
                if [[ $QUALITY == on ]]; then
                        echo "quality.measures_dir = $ROOT/config/measures"
                fi
        } >"$1"
}

# applied PORT [PREFIX]: total of the offsets applied over the claim partitions
# (on a fresh topic the next offset is the count of messages applied), and
# how many partitions have an offset at all. It polls with HGETALL, which
# the function never runs, so INFO commandstats tells the two apart.
applied() {
        redis-cli -p "$1" --raw HGETALL "${2:-claimsd:}offset" |
                awk -v t="$TOPIC/" 'NR % 2 == 1 { f = $0; next }
                        index(f, t) == 1 { s += $0; n++ } END { printf "%d %d\n", s, n }'
}

rss_sampler() {
        # rss_sampler PID FILE: VmRSS (kB) of PID once a second until it exits.
        # Bash builtins only, so a busy machine does not stretch the interval.
        # The file exists even when the process is gone before the first
        # sample (a short batch-size-1 run), so the summary never fails.
        local pid=$1 out=$2 k v rest
        : >>"$out"
        while :; do
                v=""
                { while read -r k v rest; do
                        [[ $k == VmRSS: ]] && break
                done <"/proc/$pid/status"; } 2>/dev/null || return 0
                [[ $k == VmRSS: && -n $v ]] || return 0
                echo "$v" >>"$out"
                sleep 1
        done
}

rss_stats() {
        # rss_stats FILE: "samples min max first last" in kB.
        awk 'NR == 1 { mn = mx = f = $1 } { if ($1 < mn) mn = $1; if ($1 > mx) mx = $1; l = $1 }
             END { printf "%d %d %d %d %d\n", NR, mn, mx, f, l }' "$1"
}

# cpu_s PID: user+system CPU seconds used so far by PID ('' if gone).
cpu_s() {
        awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f\n", ($12 + $13) / hz }' \
                "/proc/$1/stat" 2>/dev/null || true
}

# redis_cpu PORT: used_cpu_sys + used_cpu_user of the server, seconds.
redis_cpu() {
        redis-cli -p "$1" INFO cpu | tr -d '\r' |
                awk -F: '/^used_cpu_(sys|user):/ { s += $2 } END { printf "%.2f\n", s }'
}

# broker_cpu: CPU seconds of the local broker (tools/kafka.sh's pid), or ''.
broker_cpu() {
        local pid
        pid=$(cat "${CLM_VAR:-$ROOT/var}/kafka/kafka.pid" 2>/dev/null) || return 0
        cpu_s "$pid"
}

stop_daemon() {
        # stop_daemon PID: SIGTERM (drain), wait, return its exit status.
        local rc=0
        kill -TERM "$1" 2>/dev/null || true
        wait "$1" || rc=$?
        return "$rc"
}

# ---- topics and claims -------------------------------------------------------
head -c 32 /dev/urandom >"$WORK/hash.secret"
chmod 600 "$WORK/hash.secret"
log "topics $TOPIC ($PARTITIONS partitions), $ATTR, $DLQ on $BROKERS"
TOPICS_MADE=1
"$KAFKA" topic "$TOPIC" "$PARTITIONS" topic "$ATTR" 1 topic "$DLQ" 1

log "claimsgen: $CLAIMS claims, $BENES beneficiaries, $ACOS ACOs"
t0=$EPOCHREALTIME
"$BUILD/claimsgen" --brokers "$BROKERS" --topic "$TOPIC" --partitions "$PARTITIONS" \
        --claims "$CLAIMS" --benes "$BENES" --acos "$ACOS" --seed "$SEED" \
        --out "$WORK/gen" >"$WORK/gen.log" 2>&1 || {
        tail -n 20 "$WORK/gen.log" >&2
        die "claimsgen failed"
}
t1=$EPOCHREALTIME
SUM=$WORK/gen/summary.txt
MSGS=$(summary_of "$SUM" messages)
GEN_S=$(calc "$t1 - $t0")
log "produced $MSGS messages ($(summary_of "$SUM" versions) versions of $CLAIMS claims) in ${GEN_S}s"
result claims "$CLAIMS"
result quality "$QUALITY"
result messages "$MSGS"
result partitions "$PARTITIONS"
result bytes "$(summary_of "$SUM" bytes)"
result generate_seconds "$GEN_S"

# ---- baseline 1: raw consume ---------------------------------------------------
log "baseline: rawconsume of $MSGS messages"
RAW_LINE=$(timeout 300 "$BUILD/rawconsume" "$BROKERS" "$TOPIC" "$PARTITIONS" "$MSGS") ||
        die "rawconsume failed or timed out"
RAW_RATE=$(sed -n 's/.*rate=\([0-9.]*\).*/\1/p' <<<"$RAW_LINE")
RAW_S=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' <<<"$RAW_LINE")
log "  $RAW_LINE"
result raw_consume_seconds "$RAW_S"
result raw_consume_rate "$RAW_RATE"

# ---- claimsd end to end --------------------------------------------------------
new_redis redis-main
MAIN_PORT=$PORT
# Diagnostic only: REDIS_APPENDONLY=no measures what the AOF costs.
[[ ${REDIS_APPENDONLY:-yes} == yes ]] || redis-cli -p "$MAIN_PORT" CONFIG SET appendonly no >/dev/null
result redis_appendonly "$(redis-cli -p "$MAIN_PORT" CONFIG GET appendonly | tail -n 1)"
result redis_version "$(redis-cli -p "$MAIN_PORT" INFO server | sed -n 's/^redis_version:\([^\r]*\).*/\1/p')"
result redis_appendfsync "$(redis-cli -p "$MAIN_PORT" CONFIG GET appendfsync | tail -n 1)"
write_config "$WORK/main.conf" "$MAIN_PORT" "bench-$ID-main" "$BATCH_SIZE"
"$BUILD/claimsd" --check-config -c "$WORK/main.conf" >/dev/null || die "config rejected"
t0=$EPOCHREALTIME
"$BUILD/claimsctl" -c "$WORK/main.conf" load-participants "$WORK/gen/participants.csv" >/dev/null
"$BUILD/claimsctl" -c "$WORK/main.conf" load-attribution "$WORK/gen/attribution.csv" >/dev/null
t1=$EPOCHREALTIME
result load_seconds "$(calc "$t1 - $t0")"
redis-cli -p "$MAIN_PORT" CONFIG RESETSTAT >/dev/null
REDIS_CPU0=$(redis_cpu "$MAIN_PORT")
BROKER_CPU0=$(broker_cpu)

ENDS=$(grep -c '^end\.' "$SUM")
[[ $ENDS -eq $PARTITIONS ]] || die "summary has $ENDS end offsets, want $PARTITIONS"
log "claimsd: batch.size=$BATCH_SIZE batch.linger=$BATCH_LINGER on Redis :$MAIN_PORT"
t_start=$EPOCHREALTIME
"$BUILD/claimsd" -c "$WORK/main.conf" >>"$WORK/claimsd-main.log" 2>&1 &
DPID=$!
PIDS+=("$DPID")
t_first="" first_applied=0 deadline=$((SECONDS + 600))
while :; do
        read -r got nparts < <(applied "$MAIN_PORT")
        t=$EPOCHREALTIME
        if [[ -z $t_first ]] && ((nparts > 0)); then
                t_first=$t
                first_applied=$got
                # Sample from the first applied batch on: startup is not steady state.
                : >"$WORK/rss-main.txt"
                rss_sampler "$DPID" "$WORK/rss-main.txt" &
                disown "$!"
                PIDS+=("$!")
        fi
        ((got >= MSGS)) && break
        kill -0 "$DPID" 2>/dev/null || die "claimsd exited early; see $WORK/claimsd-main.log"
        ((SECONDS < deadline)) || die "claimsd did not reach the end offsets in 600 s ($got of $MSGS)"
        sleep 0.05
done
t_done=$t
# Exact end offsets, partition by partition (the sum alone could hide a skew).
for ((p = 0; p < PARTITIONS; p++)); do
        want=$(summary_of "$SUM" "end.$p")
        have=$(redis-cli -p "$MAIN_PORT" HGET claimsd:offset "$TOPIC/$p")
        [[ $have == "$want" ]] || die "partition $p offset $have, want $want"
done
DAEMON_CPU=$(cpu_s "$DPID")
REDIS_CPU=$(calc "$(redis_cpu "$MAIN_PORT") - $REDIS_CPU0")
BROKER_CPU1=$(broker_cpu)
BROKER_CPU=""
[[ -n $BROKER_CPU0 && -n $BROKER_CPU1 ]] && BROKER_CPU=$(calc "$BROKER_CPU1 - $BROKER_CPU0")
sleep 1.2 # one more RSS sample at the end of the run
rc=0
stop_daemon "$DPID" || rc=$?
((rc == 0)) || die "claimsd exited $rc on SIGTERM; see $WORK/claimsd-main.log"

E2E_S=$(calc "$t_done - $t_first")
E2E_MSGS=$((MSGS - first_applied))
E2E_RATE=$(calc "$E2E_MSGS / ($t_done - $t_first)")
E2E_CLAIM_RATE=$(calc "$CLAIMS * $E2E_MSGS / $MSGS / ($t_done - $t_first)")
WALL_S=$(calc "$t_done - $t_start")
BATCHES=$(redis-cli -p "$MAIN_PORT" HGET claimsd:stats batches)
FCALL_LINE=$(redis-cli -p "$MAIN_PORT" INFO commandstats | tr -d '\r' | grep '^cmdstat_fcall:' || true)
FCALL_CALLS=$(sed -n 's/.*calls=\([0-9]*\),usec=.*/\1/p' <<<"$FCALL_LINE")
FCALL_USEC=$(sed -n 's/.*,usec=\([0-9]*\),.*/\1/p' <<<"$FCALL_LINE")
# Commands the function ran (INFO commandstats counts them inside FCALL
# too), less FCALL itself, this script's polling and admin commands; the
# daemon's own few HMGETs of offsets (on assignment) are in the noise.
INNER=$(redis-cli -p "$MAIN_PORT" INFO commandstats | tr -d '\r' |
        awk -F'[:=,]' '/^cmdstat_/ { c = $1; sub(/^cmdstat_/, "", c)
                if (c ~ /[|]/ || c ~ /^(fcall|hgetall|info|ping|hello|auth|select|command)$/) next
                printf "%s%s=%s", sep, c, $3; sep = " " }')
INNER_TOTAL=$(tr ' ' '\n' <<<"$INNER" | awk -F= '{ s += $2 } END { print s + 0 }')
log "  first offset after $(calc "$t_first - $t_start")s (group join, startup); then $E2E_MSGS messages in ${E2E_S}s"

# Correctness: a fast wrong answer fails the bench.
log "verifying totals, stats and dead letters against the generator's oracle"
"$BUILD/claimsctl" -c "$WORK/main.conf" totals >"$WORK/got.tsv"
if ! diff -u "$WORK/gen/expected.tsv" "$WORK/got.tsv" >"$WORK/totals.diff"; then
        head -n 40 "$WORK/totals.diff" >&2
        result correctness FAIL
        die "Redis totals differ from expected.tsv ($(grep -c '^[-+][^-+]' "$WORK/totals.diff") lines)"
fi
for s in claims duplicate stale cancel dead_letter markers \
        unattributed:no_attribution unattributed:not_assigned_month; do
        have=$(redis-cli -p "$MAIN_PORT" HGET claimsd:stats "$s")
        want=$(summary_of "$SUM" "stats.$s")
        [[ ${have:-0} == "${want:-0}" ]] || {
                result correctness FAIL
                die "stats $s = ${have:-0}, want ${want:-0}"
        }
done
if [[ $QUALITY == on ]]; then
        "$BUILD/claimsctl" -c "$WORK/main.conf" quality-counts >"$WORK/got-quality.tsv"
        "$BUILD/claimsctl" -c "$WORK/main.conf" population >"$WORK/got-pop.tsv"
        if ! diff -u "$WORK/gen/quality.tsv" "$WORK/got-quality.tsv" >&2 ||
                ! diff -u "$WORK/gen/population.tsv" "$WORK/got-pop.tsv" >&2; then
                result correctness FAIL
                die "quality or population counters differ from the oracle"
        fi
fi
result correctness PASS
ROWS=$(wc -l <"$WORK/gen/expected.tsv")
log "  totals equal expected.tsv ($ROWS rows); stats equal the summary"

read -r RSS_N RSS_MIN RSS_MAX RSS_FIRST RSS_LAST < <(rss_stats "$WORK/rss-main.txt")
result e2e_batch_size "$BATCH_SIZE"
result e2e_batch_linger "$BATCH_LINGER"
result e2e_messages_timed "$E2E_MSGS"
result e2e_seconds "$E2E_S"
result e2e_rate "$E2E_RATE"
result e2e_distinct_claims_rate "$E2E_CLAIM_RATE"
result e2e_wall_seconds_incl_startup "$WALL_S"
result e2e_batches "$BATCHES"
result e2e_messages_per_batch "$(calc "$MSGS / $BATCHES")"
result redis_fcall_calls "${FCALL_CALLS:-0}"
result redis_fcall_usec_per_call "$(calc "${FCALL_USEC:-0} / ${FCALL_CALLS:-1}")"
result redis_fcall_busy_seconds "$(calc "${FCALL_USEC:-0} / 1000000")"
result redis_fcall_messages_per_busy_second "$(calc "$MSGS / (${FCALL_USEC:-1} / 1000000)")"
result redis_calls_in_function "$INNER_TOTAL"
result redis_calls_per_message "$(calc "$INNER_TOTAL / $MSGS")"
result redis_calls_by_command "$INNER"
result redis_used_memory_bytes "$(redis-cli -p "$MAIN_PORT" INFO memory | tr -d '\r' | sed -n 's/^used_memory:\(.*\)/\1/p')"
result claimsd_cpu_seconds "$DAEMON_CPU"
result redis_cpu_seconds "$REDIS_CPU"
result broker_cpu_seconds "${BROKER_CPU:-unknown}"
result rss_samples "$RSS_N"
result rss_kb_min "$RSS_MIN"
result rss_kb_max "$RSS_MAX"
result rss_kb_first "$RSS_FIRST"
result rss_kb_last "$RSS_LAST"
result rss_kb_series "$(paste -sd, "$WORK/rss-main.txt")"

# ---- replay into a namespace -----------------------------------------------------
if [[ $REPLAY == on ]]; then
        log "replay: claimsctl replay --namespace bench on Redis :$MAIN_PORT"
        t_start=$EPOCHREALTIME
        "$BUILD/claimsctl" -c "$WORK/main.conf" replay --namespace bench \
                --attribution "$WORK/gen/attribution.csv" --claimsd "$BUILD/claimsd" \
                --log "$WORK/replay.log" --quiet >"$WORK/replay.out" 2>&1 &
        RPID=$!
        PIDS+=("$RPID")
        t_first="" first_applied=0
        while kill -0 "$RPID" 2>/dev/null; do
                read -r got nparts < <(applied "$MAIN_PORT" claimsd:replay:bench:)
                if [[ -z $t_first ]] && ((nparts > 0)); then
                        t_first=$EPOCHREALTIME
                        first_applied=$got
                fi
                sleep 0.05
        done
        rc=0
        wait "$RPID" || rc=$?
        t_done=$EPOCHREALTIME
        ((rc == 0)) || die "claimsctl replay exited $rc; see $WORK/replay.out and $WORK/replay.log"
        "$BUILD/claimsctl" -c "$WORK/main.conf" -n bench totals >"$WORK/got-replay.tsv"
        diff -q "$WORK/gen/expected.tsv" "$WORK/got-replay.tsv" >/dev/null ||
                die "replayed totals differ from expected.tsv"
        REPLAY_MSGS=$((MSGS - first_applied))
        REPLAY_RATE=$(calc "$REPLAY_MSGS / ($t_done - $t_first)")
        REPLAY_WALL=$(calc "$t_done - $t_start")
        log "  replayed $MSGS messages: $(fmt "$REPLAY_RATE") msgs/s from the first applied offset," \
                "${REPLAY_WALL}s wall including the attribution load and startup; totals equal the oracle"
        result replay_messages_timed "$REPLAY_MSGS"
        result replay_rate "$REPLAY_RATE"
        result replay_wall_seconds_incl_startup "$REPLAY_WALL"
        result replay_wall_rate "$(calc "$MSGS / $REPLAY_WALL")"
        result replay_vs_raw_consume "$(calc "$REPLAY_RATE / $RAW_RATE")"
fi

# ---- baseline 2: redis-benchmark on the same Redis -------------------------------
log "baseline: redis-benchmark -P 100 -n $REDIS_BENCH_N on Redis :$MAIN_PORT"
# rb_rate TEST: requests/s of TEST from redis-benchmark --csv on stdin.
rb_rate() { awk -F'","' -v t="\"$1" '$1 == t { print $2 }'; }
RB_SET_INCR=$(redis-benchmark -p "$MAIN_PORT" -P 100 -n "$REDIS_BENCH_N" --csv -t set,incr)
RB_SET=$(rb_rate SET <<<"$RB_SET_INCR")
RB_INCR=$(rb_rate INCR <<<"$RB_SET_INCR")
RB_HINCRBY=$(redis-benchmark -p "$MAIN_PORT" -P 100 -n "$REDIS_BENCH_N" --csv \
        HINCRBY bench:hash f 1 | rb_rate "HINCRBY bench:hash f 1")
[[ -n $RB_SET && -n $RB_INCR && -n $RB_HINCRBY ]] || die "could not read redis-benchmark's rates"
result redis_benchmark_set_rate "$RB_SET"
result redis_benchmark_incr_rate "$RB_INCR"
result redis_benchmark_hincrby_rate "$RB_HINCRBY"
"$REDIS" stop "$WORK/redis-main"

# ---- claimsd at batch.size = 1 ---------------------------------------------------
new_redis redis-batch1
B1_PORT=$PORT
write_config "$WORK/batch1.conf" "$B1_PORT" "bench-$ID-batch1" 1
"$BUILD/claimsctl" -c "$WORK/batch1.conf" load-participants "$WORK/gen/participants.csv" >/dev/null
"$BUILD/claimsctl" -c "$WORK/batch1.conf" load-attribution "$WORK/gen/attribution.csv" >/dev/null
log "claimsd: batch.size=1 for at most ${BATCH1_SECONDS}s after the first applied offset"
"$BUILD/claimsd" -c "$WORK/batch1.conf" >>"$WORK/claimsd-batch1.log" 2>&1 &
DPID=$!
PIDS+=("$DPID")
t_first="" first_applied=0 deadline=$((SECONDS + 120))
while :; do
        read -r got nparts < <(applied "$B1_PORT")
        t=$EPOCHREALTIME
        if [[ -z $t_first ]]; then
                if ((nparts > 0)); then
                        t_first=$t
                        first_applied=$got
                        deadline=$((SECONDS + BATCH1_SECONDS))
                        : >"$WORK/rss-batch1.txt"
                        rss_sampler "$DPID" "$WORK/rss-batch1.txt" &
                        disown "$!"
                        PIDS+=("$!")
                elif ((SECONDS >= deadline)); then
                        die "batch.size=1 daemon applied nothing in 120 s; see $WORK/claimsd-batch1.log"
                fi
        fi
        ((got >= MSGS)) && break
        kill -0 "$DPID" 2>/dev/null || die "claimsd exited early; see $WORK/claimsd-batch1.log"
        [[ -n $t_first ]] && ((SECONDS >= deadline)) && break
        sleep 0.2
done
t_done=$t
rc=0
stop_daemon "$DPID" || rc=$?
((rc == 0)) || die "batch.size=1 claimsd exited $rc on SIGTERM"
B1_MSGS=$((got - first_applied))
B1_S=$(calc "$t_done - $t_first")
B1_RATE=$(calc "$B1_MSGS / ($t_done - $t_first)")
B1_COMPLETE=$([[ $got -ge $MSGS ]] && echo yes || echo "no (stopped after ${BATCH1_SECONDS}s)")
if ((got >= MSGS)); then
        "$BUILD/claimsctl" -c "$WORK/batch1.conf" totals >"$WORK/got-batch1.tsv"
        diff -q "$WORK/gen/expected.tsv" "$WORK/got-batch1.tsv" >/dev/null || {
                result correctness FAIL
                die "batch.size=1 totals differ from expected.tsv"
        }
fi
read -r B1_RSS_N B1_RSS_MIN B1_RSS_MAX B1_RSS_FIRST B1_RSS_LAST < <(rss_stats "$WORK/rss-batch1.txt")
"$REDIS" stop "$WORK/redis-batch1"
result batch1_messages_timed "$B1_MSGS"
result batch1_seconds "$B1_S"
result batch1_rate "$B1_RATE"
result batch1_complete "${B1_COMPLETE%% *}"
result batch1_rss_kb_min "$B1_RSS_MIN"
result batch1_rss_kb_max "$B1_RSS_MAX"
result batch1_rss_kb_series "$(paste -sd, "$WORK/rss-batch1.txt")"

# ---- report ----------------------------------------------------------------------
R_RAW=$(calc "$E2E_RATE / $RAW_RATE")
R_B1=$(calc "$E2E_RATE / $B1_RATE")
R_SET=$(calc "$E2E_RATE / $RB_SET")
R_INCR=$(calc "$E2E_RATE / $RB_INCR")
R_HINCRBY=$(calc "$E2E_RATE / $RB_HINCRBY")
V_RATE=$(awk -v r="$E2E_RATE" -v t="$TARGET_RATE" 'BEGIN { print (r >= t) ? "PASS" : "MISS" }')
V_B1=$(awk -v r="$R_B1" -v t="$TARGET_VS_BATCH1" 'BEGIN { print (r >= t) ? "PASS" : "MISS" }')
result ratio_e2e_over_raw "$R_RAW"
result ratio_e2e_over_batch1 "$R_B1"
result ratio_e2e_over_redis_set "$R_SET"
result ratio_e2e_over_redis_incr "$R_INCR"
result ratio_e2e_over_redis_hincrby "$R_HINCRBY"
result target_rate "$TARGET_RATE"
result target_rate_verdict "$V_RATE"
result target_vs_batch1 "$TARGET_VS_BATCH1"
result target_vs_batch1_verdict "$V_B1"
result bench_seconds "$((SECONDS - T_START))"
result host_cpus "$(nproc)"
result timestamp "$TS"

cat <<EOF

claimsd benchmark $TS ($(nproc) CPUs shared by broker, Redis and claimsd)
  input: $(fmt "$CLAIMS") claims = $(fmt "$MSGS") messages on $PARTITIONS partitions, produced in ${GEN_S}s
  correctness: totals = expected.tsv ($ROWS rows), stats = summary      PASS

  claimsd end to end (batch.size=$BATCH_SIZE, linger $BATCH_LINGER)
    $(fmt "$E2E_RATE") messages/s  ($(fmt "$E2E_MSGS") messages in ${E2E_S}s; $(fmt "$E2E_CLAIM_RATE") distinct claims/s)
    ${WALL_S}s from process start incl. group join; $(calc "$MSGS / $BATCHES") messages per FCALL
    Redis busy in FCALL $(calc "${FCALL_USEC:-0} / 1000000")s, $(calc "${FCALL_USEC:-0} / ${FCALL_CALLS:-1}") us per call
    Redis commands run by the function: $(calc "$INNER_TOTAL / $MSGS") per message ($INNER)
    CPU seconds: claimsd $DAEMON_CPU (incl. startup), redis-server $REDIS_CPU, broker ${BROKER_CPU:-unknown}
    RSS kB over $RSS_N samples: min $RSS_MIN max $RSS_MAX first $RSS_FIRST last $RSS_LAST
  raw consume (rawconsume, no decode, no Redis)
    $(fmt "$RAW_RATE") messages/s  (${RAW_S}s)
$(if [[ $REPLAY == on ]]; then
        echo "  claimsctl replay into a namespace (same topic, same Redis; totals = expected.tsv)"
        echo "    $(fmt "$REPLAY_RATE") messages/s from its first applied offset; ${REPLAY_WALL}s wall incl. attribution load and startup"
        echo "    replay / raw consume     $(calc "$REPLAY_RATE / $RAW_RATE")"
fi)
  redis-benchmark -P 100 -n $REDIS_BENCH_N (same Redis, AOF everysec)
    SET $(fmt "$RB_SET")/s   INCR $(fmt "$RB_INCR")/s   HINCRBY $(fmt "$RB_HINCRBY")/s
  claimsd batch.size=1
    $(fmt "$B1_RATE") messages/s  ($(fmt "$B1_MSGS") messages in ${B1_S}s; complete: $B1_COMPLETE)
    RSS kB: min $B1_RSS_MIN max $B1_RSS_MAX

  ratios
    e2e / raw consume        $R_RAW
    e2e / batch.size=1       $R_B1        target >= $TARGET_VS_BATCH1   $V_B1
    e2e / redis SET          $R_SET
    e2e / redis INCR         $R_INCR
    e2e / redis HINCRBY      $R_HINCRBY
    e2e rate                 $(fmt "$E2E_RATE")/s   target >= $(fmt "$TARGET_RATE")/s   $V_RATE

  results: $RESULTS   (bench took $((SECONDS - T_START))s)
EOF
OK=1
