# Shared helpers for the integration tests (sourced, not run). They use the
# real Kafka broker started by `make test` (tools/kafka.sh) and a disposable
# redis-server per test (tools/redis.sh), both on loopback.
set -euo pipefail

SRC=${CLM_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BUILD=${CLM_BUILD_DIR:-$SRC/build}
PASSED=0
FAILED=0

# One work dir per test run; everything (redis, logs, config) lives there.
WORK=$(mktemp -d /tmp/clm-it-XXXXXX)
RUN_ID=$(basename "$WORK" | tr -dc 'a-zA-Z0-9')
DAEMON_PIDS=()

log() { echo "[$(date +%H:%M:%S)] $*"; }

cleanup() {
        local p
        for p in "${DAEMON_PIDS[@]:-}"; do
                [[ -n $p ]] && kill -9 "$p" 2>/dev/null || true
        done
        "$SRC/tools/redis.sh" stop "$WORK/redis" >/dev/null 2>&1 || true
        if [[ $FAILED -eq 0 && -z ${CLM_KEEP_WORK:-} ]]; then
                rm -rf "$WORK"
        else
                echo "work dir kept: $WORK"
        fi
}
trap cleanup EXIT

check() {
        # check NAME COMMAND...: one assertion, counted.
        local name=$1
        shift
        if "$@"; then
                echo "ok   - $name"
                PASSED=$((PASSED + 1))
        else
                echo "FAIL - $name"
                FAILED=$((FAILED + 1))
        fi
}

finish() {
        echo "$PASSED passed, $FAILED failed"
        [[ $FAILED -eq 0 ]]
}

kafka_up() {
        if [[ -z ${CLM_KAFKA_BOOTSTRAP:-} ]]; then
                "$SRC/tools/kafka.sh" fetch start >/dev/null
                CLM_KAFKA_BOOTSTRAP=$("$SRC/tools/kafka.sh" bootstrap)
        fi
        BROKERS=$CLM_KAFKA_BOOTSTRAP
        # Fail loudly with the broker's own words if it is not answering.
        kcat -b "$BROKERS" -L -m 10 >/dev/null 2>&1 || {
                echo "Kafka broker at $BROKERS is not answering" >&2
                "$SRC/tools/kafka.sh" status >&2 || true
                exit 1
        }
}

topic() { "$SRC/tools/kafka.sh" topic "$1" "$2" >/dev/null; }

# acl_rules USER: USER's rules in the shipped deploy/redis-users.acl.
acl_rules() {
        awk -v u="$1" '$1 == "user" && $2 == u { for (i = 3; i <= NF; i++) print $i }' \
                "$SRC/deploy/redis-users.acl"
}

redis_up() {
        # Below the kernel's ephemeral range (32768-60999), so an outgoing
        # connection can never hold our port.
        REDIS_PORT=${REDIS_PORT:-$((20000 + RANDOM % 12000))}
        # write_config runs claimsd and claimsctl as ACL user claimsd with the
        # shipped rules of both (one config file for both, as deployed; see
        # docs/security.md). RCLI stays the unrestricted default user. The
        # aclfile keeps the user across Redis restarts.
        REDIS_PW=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
        (umask 077 && printf '%s\n' "$REDIS_PW" >"$WORK/redis.claimsd.pw")
        mkdir -p "$WORK/redis"
        {
                echo "user default on nopass ~* &* +@all"
                # claimsctl's commands and its selector "(~ns +unlink)".
                echo "user claimsd #$(printf '%s' "$REDIS_PW" | sha256sum | cut -d' ' -f1)" \
                        $(acl_rules claimsd) $(acl_rules claimsctl | grep -e '^+' -e '^(')
        } >"$WORK/redis/users.acl"
        "$SRC/tools/redis.sh" start "$WORK/redis" "$REDIS_PORT" >/dev/null
        RCLI=(redis-cli -p "$REDIS_PORT")
}

# acl_user USER: ACL SETUSER USER with its rules in the shipped
# deploy/redis-users.acl and a fresh password ($WORK/USER.pw), and a config
# $WORK/USER.conf that connects as USER through the unix socket.
acl_user() {
        local u=$1 pw
        pw=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
        (umask 077 && printf '%s\n' "$pw" >"$WORK/$u.pw")
        # shellcheck disable=SC2046 # one rule per word
        "${RCLI[@]}" ACL SETUSER "$u" reset ">$pw" $(acl_rules "$u") >/dev/null
        write_config "$WORK/$u.conf" "redis.unix_socket = $WORK/redis/redis.sock" \
                "redis.user = $u" "redis.password_file = $WORK/$u.pw"
}

# write_config FILE [extra lines...]: a config on this run's topics, as
# Redis ACL user claimsd (see redis_up) unless an extra line sets redis.user
# or redis.password_file.
write_config() {
        local f=$1
        shift
        if [[ ! -f $WORK/hash.secret ]]; then
                head -c 32 /dev/urandom >"$WORK/hash.secret"
                chmod 600 "$WORK/hash.secret"
        fi
        {
                echo "kafka.bootstrap.servers = $BROKERS"
                echo "kafka.group.id = claimsd-$RUN_ID"
                echo "kafka.session.timeout.ms = 6000"
                echo "hash.secret_file = $WORK/hash.secret"
                echo "redis.port = $REDIS_PORT"
                if [[ -n ${REDIS_PW:-} && ! " $* " =~ \ redis\.(user|password_file)\ *= ]]; then
                        echo "redis.user = claimsd"
                        echo "redis.password_file = $WORK/redis.claimsd.pw"
                fi
                echo "topics.claims = $CLAIMS"
                echo "topics.attribution = $ATTR"
                echo "topics.registry = ${REG:-registry-$RUN_ID}"
                echo "topics.dlq = $DLQ"
                echo "log.level = notice"
                local l
                for l in "$@"; do echo "$l"; done
        } >"$f"
}

start_daemon() {
        # start_daemon CONFIG LOG: run claimsd in the background.
        "$BUILD/claimsd" -c "$1" >>"$2" 2>&1 &
        DAEMON_PID=$!
        DAEMON_PIDS+=("$DAEMON_PID")
}

# applied_all SUMMARY: true when every partition's Redis offset reached the
# generator's end offset.
applied_all() {
        local sum=$1 p end got
        while IFS='=' read -r k end; do
                p=${k#end.}
                got=$("${RCLI[@]}" HGET claimsd:offset "$CLAIMS/$p")
                [[ ${got:-} == "$end" ]] || return 1
        done < <(grep '^end\.' "$sum")
}

wait_applied() {
        # wait_applied SUMMARY TIMEOUT_S
        local deadline=$((SECONDS + $2))
        while ((SECONDS < deadline)); do
                applied_all "$1" && return 0
                sleep 0.5
        done
        return 1
}

stat_of() { "${RCLI[@]}" HGET claimsd:stats "$1"; }
summary_of() { grep "^$2=" "$1" | cut -d= -f2; }

# setup_topics CLAIM_PARTITIONS [ATTR_PARTITIONS]: broker, Redis and this
# run's topics (claims, attribution, ACO parameters, dead letters); sets
# CLAIMS ATTR REG DLQ.
setup_topics() {
        kafka_up
        redis_up
        CLAIMS=claims-$RUN_ID
        ATTR=attr-$RUN_ID
        DLQ=dlq-$RUN_ID
        REG=registry-$RUN_ID
        topic "$CLAIMS" "$1"
        topic "$ATTR" "${2:-1}"
        topic "$REG" 1
        topic "$DLQ" 1
}

# setup_stream PARTITIONS CLAIMSGEN_ARGS...: setup_topics, then a generated
# stream; sets SUM too.
setup_stream() {
        local parts=$1
        shift
        setup_topics "$parts"
        "$BUILD/claimsgen" --brokers "$BROKERS" --topic "$CLAIMS" \
                --partitions "$parts" --out "$WORK/gen" "$@" >"$WORK/gen.log"
        SUM=$WORK/gen/summary.txt
}

# load_roster CONFIG: the generator's attribution and participants, by CSV.
load_roster() {
        "$BUILD/claimsctl" -c "$1" load-attribution "$WORK/gen/attribution.csv" >/dev/null
        "$BUILD/claimsctl" -c "$1" load-participants "$WORK/gen/participants.csv" >/dev/null
}

# totals_match CONFIG: Redis totals (claimsctl) equal the generator's oracle.
totals_match() {
        "$BUILD/claimsctl" -c "$1" totals >"$WORK/got.tsv" &&
                diff -u "$WORK/gen/expected.tsv" "$WORK/got.tsv"
}

# dlq_stream: the Redis dead-letter stream as "topic/partition/offset\treason",
# byte-sorted like the generator's dlq.tsv.
dlq_stream() {
        "${RCLI[@]}" --raw XRANGE claimsd:dlq - + |
                awk 'NR%7==3{tp=$0} NR%7==5{off=$0} NR%7==0{print tp "/" off "\t" $0}' |
                LC_ALL=C sort
}
