#!/usr/bin/env bash
# Monitoring keys, `claimsctl status` and `claimsctl health` against a
# running daemon (docs/redis-keys.md "Monitoring keys"):
#   1. healthy: the instance and per-partition hashes, the status table,
#      valid --json, health exit 0;
#   2. Redis stopped: the daemon says "redis unavailable, retrying in Ns"
#      (systemd STATUS and its local status file); health exits 1 ("degraded:
#      redis unreachable ... retrying"), status says so and exits 1; without
#      a fresh local status file health exits 2 ("down");
#   3. Redis back: the daemon resumes, health 0 again, totals exact;
#   4. Redis up but refusing FCALL (NOPERM): the instance hash says
#      retrying, health exits 1;
#   5. Redis slowed (writes paused 3 s at a time) while a burst arrives: lag
#      over --max-lag and a stale heartbeat, both exit 1; then healthy;
#   6. SIGTERM: the instance keys and status file go, health exits 2 ("no
#      live claimsd instance"), and 2 ("redis unreachable") once Redis stops.
source "$(dirname "$0")/lib.sh"

NAME=claimsd-mon
setup_stream 2 --claims 3000 --benes 600 --acos 2 --seed 31
write_config "$WORK/claimsd.conf" "instance.name = $NAME" "redis.timeout = 20s" \
        "batch.size = 200" "batch.linger = 5ms"
load_roster "$WORK/claimsd.conf"
CTL=("$BUILD/claimsctl" -c "$WORK/claimsd.conf")
IKEY=claimsd:instance:$NAME
PKEY=claimsd:instance_partitions:$NAME
STATUS_FILE=$WORK/run/status
mkdir -p "$WORK/run"
# The ACL user claimsd runs as (lib.sh), for the NOPERM phase.
RUSER=$(sed -n 's/^redis.user = //p' "$WORK/claimsd.conf")
RUSER=${RUSER:-default}

# health_is CODE PATTERN [ARGS...]: health exits CODE and its line matches.
health_is() {
        local want=$1 pat=$2 rc=0 out
        shift 2
        out=$("${CTL[@]}" health "$@" 2>/dev/null) || rc=$?
        echo "$out" >>"$WORK/health.log"
        [[ $rc -eq $want && $out =~ $pat ]]
}

# wait_health CODE PATTERN TIMEOUT_S [ARGS...]
wait_health() {
        local want=$1 pat=$2 deadline=$((SECONDS + $3))
        shift 3
        while ((SECONDS < deadline)); do
                health_is "$want" "$pat" "$@" && return 0
                sleep 0.3
        done
        return 1
}

# status exits 1 while Redis is unreachable; only the JSON matters here.
json_ok() { { "${CTL[@]}" status --json 2>/dev/null || true; } | python3 -m json.tool >/dev/null; }

# jq-less JSON assertions: json_check 'PYTHON EXPRESSION over d'
json_check() {
        "${CTL[@]}" status --json >"$WORK/status.json" 2>/dev/null || true
        python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($1) else 1)" \
                "$WORK/status.json"
}

python3 "$SRC/tests/integration/notify.py" listen "$WORK/notify.sock" 300 \
        >"$WORK/notify.out" &
for _ in $(seq 50); do [[ -S $WORK/notify.sock ]] && break; sleep 0.1; done
export NOTIFY_SOCKET=$WORK/notify.sock RUNTIME_DIRECTORY=$WORK/run
start_daemon "$WORK/claimsd.conf" "$WORK/claimsd.log"
unset NOTIFY_SOCKET
t0=$SECONDS

# ---- 1. healthy -----------------------------------------------------------
check "all partitions applied" wait_applied "$SUM" 120
check "health exits 0: healthy, 4 partitions (claims, attribution, registry), lag 0" \
        wait_health 0 '^healthy: 1 instance running, 4 partitions, lag 0$' 20
"${RCLI[@]}" HGETALL "$IKEY" >"$WORK/instance.txt"
"${RCLI[@]}" HGETALL "$PKEY" >"$WORK/partitions.txt"
hfield() { "${RCLI[@]}" HGET "$IKEY" "$1"; }
check "instance hash: state running, version, pid" \
        test "$(hfield state)/$(hfield version)/$(hfield pid)" == \
        "running/$("$BUILD/claimsd" --version | cut -d' ' -f2)/$DAEMON_PID"
check "instance hash: config digest is the config file's SHA-256" \
        test "$(hfield config_sha256)" == "$(sha256sum <"$WORK/claimsd.conf" | cut -d' ' -f1)"
check "instance hash: TTL at most 30 s" \
        bash -c "t=\$(${RCLI[*]} TTL $IKEY); ((t > 0 && t <= 30))"
check "instance hash: assigned partitions listed" \
        bash -c "[[ \$(${RCLI[*]} HGET $IKEY assigned | tr , '\n' | sort | paste -sd,) == \
                $(printf '%s\n' "$ATTR/0" "$REG/0" "$CLAIMS/0" "$CLAIMS/1" | sort | paste -sd,) ]]"
check "instance hash: messages applied, batch latency, round trips" \
        bash -c "(( \$(${RCLI[*]} HGET $IKEY messages) >= 3000 &&
                    \$(${RCLI[*]} HGET $IKEY batch_ms_max) >= 0 &&
                    \$(${RCLI[*]} HGET $IKEY round_trips) > 0 &&
                    \$(${RCLI[*]} HGET $IKEY heartbeat) > 0 ))"
check "instance hash: no error yet" test -z "$(hfield last_error)"
for p in 0 1; do
        end=$(summary_of "$SUM" "end.$p")
        check "partitions hash: $CLAIMS/$p applied=$end high=$end lag=0" \
                test "$("${RCLI[@]}" HGET "$PKEY" "$CLAIMS/$p")" == \
                "applied=$end high=$end lag=0"
done
check "partitions hash has the same TTL" \
        bash -c "t=\$(${RCLI[*]} TTL $PKEY); ((t > 0 && t <= 30))"

"${CTL[@]}" status >"$WORK/status.txt"
check "status: first line is the health verdict" \
        grep -q '^claimsd healthy: 1 instance running' "$WORK/status.txt"
check "status: instance row running" \
        grep -Eq "^$NAME +running +[0-9]+s +4 +0 " "$WORK/status.txt"
for p in 0 1; do
        end=$(summary_of "$SUM" "end.$p")
        check "status: partition row $CLAIMS/$p" \
                grep -Eq "^$CLAIMS/$p +$NAME +$end +$end +0 " "$WORK/status.txt"
done
check "status: outcomes show the Redis claims total" \
        grep -Eq "^  claims +$(stat_of claims)\$" "$WORK/status.txt"
check "status: dead letters by reason, as Redis counts them" \
        bash -c "diff <(${RCLI[*]} --raw HGETALL claimsd:dlq:count | paste - - | sort) \
                <(sed -n '/^DEAD LETTERS BY REASON/,/^\$/{/^  /p}' '$WORK/status.txt' |
                  awk '{print \$1 \"\t\" \$2}' | sort)"
check "status --json is valid JSON" json_ok
check "status --json: health, instance, partitions, outcomes" \
        json_check "d['health']['code'] == 0 and d['redis']['reachable']
                and d['instances'][0]['name'] == '$NAME'
                and d['instances'][0]['fields']['state'] == 'running'
                and isinstance(d['instances'][0]['fields']['rate_1m'], float)
                and all(p['lag'] == 0 for p in d['partitions'] if p['partition'].startswith('$CLAIMS/'))
                and d['outcomes']['claims'] == $(stat_of claims)"
check "the local status file says running" grep -q '^state=running$' "$STATUS_FILE"
# The read-only reporting user of deploy/redis-users.acl is enough for both.
if declare -F acl_rules >/dev/null && [[ -n $(acl_rules claimsd-report) ]]; then
        # shellcheck disable=SC2046
        "${RCLI[@]}" ACL SETUSER claimsd-report reset $(acl_rules claimsd-report) \
                '>report-pw' >/dev/null
        (umask 077 && echo report-pw >"$WORK/report.pw")
        write_config "$WORK/report.conf" "redis.user = claimsd-report" \
                "redis.password_file = $WORK/report.pw"
        check "the read-only claimsd-report ACL user can run health and status" \
                bash -c "'$BUILD/claimsctl' -c '$WORK/report.conf' health | grep -q '^healthy:' &&
                         '$BUILD/claimsctl' -c '$WORK/report.conf' status --json |
                         python3 -m json.tool >/dev/null"
fi
# A claimsctl user that may not SCAN cannot see the instances: it says why.
"${RCLI[@]}" ACL SETUSER noscan on '>noscan-pw' '~claimsd:*' +ping +hgetall >/dev/null
(umask 077 && echo noscan-pw >"$WORK/noscan.pw")
write_config "$WORK/noscan.conf" "redis.user = noscan" \
        "redis.password_file = $WORK/noscan.pw"
rc=0
out=$("$BUILD/claimsctl" -c "$WORK/noscan.conf" health 2>/dev/null) || rc=$?
check "health names a refused read (NOPERM) instead of guessing (exit $rc)" \
        bash -c "[[ $rc -eq 1 && '$out' =~ ^degraded:\ redis\ unreachable\ \(NOPERM ]]"
"${CTL[@]}" status --json >"$WORK/status-healthy.json"
"${CTL[@]}" status >"$WORK/status-healthy.txt"
log "phase 1 (healthy) done at $((SECONDS - t0))s"

# ---- 2. Redis stopped -------------------------------------------------------
"$SRC/tools/redis.sh" stop "$WORK/redis"
wait_retrying() {
        local deadline=$((SECONDS + 20))
        while ((SECONDS < deadline)); do
                grep -q '^state=retrying$' "$STATUS_FILE" 2>/dev/null && return 0
                sleep 0.2
        done
        return 1
}
check "the daemon's status file says retrying" wait_retrying
check "systemd STATUS says redis unavailable, retrying in Ns" \
        grep -Eq '^STATUS=redis unavailable, retrying in [0-9]+s$' "$WORK/notify.out"
check "health exits 1: degraded, redis unreachable, daemon retrying" \
        health_is 1 "^degraded: redis unreachable \(.*\); $NAME retrying: redis unavailable, retrying in [0-9]+s$"
rc=0
"${CTL[@]}" status >"$WORK/status-down.txt" 2>/dev/null || rc=$?
check "status exits 1 while Redis is unreachable" test "$rc" -eq 1
check "status: verdict line says degraded, redis unreachable" \
        grep -q '^claimsd degraded: redis unreachable' "$WORK/status-down.txt"
check "status: redis UNREACHABLE, the local instance retrying" \
        bash -c "grep -q '^redis: UNREACHABLE' '$WORK/status-down.txt' &&
                 grep -Eq '^$NAME +retrying ' '$WORK/status-down.txt'"
check "status --json valid while Redis is unreachable" json_ok
check "status --json: redis unreachable, local retrying, code 1" \
        json_check "d['health']['code'] == 1 and not d['redis']['reachable']
                and d['local']['state'] == 'retrying' and d['local']['instance'] == '$NAME'"
check "health exits 2 without the local status file" \
        health_is 2 '^down: redis unreachable \(' --status-file "$WORK/none"
check "health exits 2 when the local status file is stale" \
        health_is 2 '^down: redis unreachable \(' --stale-seconds 0
rc=0
"${CTL[@]}" health --max-lag nope >/dev/null 2>&1 || rc=$?
check "a bad health option exits 64, not 1 or 2" test "$rc" -eq 64
"${CTL[@]}" status >"$WORK/status-redis-down.txt" 2>/dev/null || true
log "phase 2 (redis down) done at $((SECONDS - t0))s"

# ---- 3. Redis back ----------------------------------------------------------
"$SRC/tools/redis.sh" start "$WORK/redis" "$REDIS_PORT" >/dev/null
check "health exits 0 again after Redis returns" \
        wait_health 0 '^healthy: 1 instance running, 4 partitions, lag 0$' 60
check "the daemon logged the resume" grep -q "resumed" "$WORK/claimsd.log"
check "STATUS=running follows the retrying line" \
        bash -c "awk '/retrying in/{r=1} r && /^STATUS=running\$/{ok=1} END{exit !ok}' '$WORK/notify.out'"
check "instance hash: last error redis:unavailable, pauses counted" \
        bash -c "[[ \$(${RCLI[*]} HGET $IKEY last_error) == redis:unavailable &&
                    \$(${RCLI[*]} HGET $IKEY pauses) -ge 1 &&
                    \$(${RCLI[*]} HGET $IKEY last_error_at) -gt 0 ]]"
check "totals equal the oracle after the outage" totals_match "$WORK/claimsd.conf"
log "phase 3 (recovered) done at $((SECONDS - t0))s"

# ---- 4. Redis up, FCALL refused ---------------------------------------------
"${RCLI[@]}" ACL SETUSER "$RUSER" -fcall >/dev/null
"$BUILD/claimsgen" --brokers "$BROKERS" --topic "$CLAIMS" --partitions 2 \
        --claims 2000 --benes 400 --acos 2 --seed 32 --out "$WORK/gen2" >/dev/null
check "health exits 1: the instance retrying with Redis up (NOPERM)" \
        wait_health 1 "^degraded: $NAME retrying: redis unavailable, retrying in [0-9]+s" 40
check "instance hash: state retrying, last error redis:NOPERM" \
        bash -c "[[ \$(${RCLI[*]} HGET $IKEY state) == retrying &&
                    \$(${RCLI[*]} HGET $IKEY last_error) == redis:NOPERM ]]"
"${CTL[@]}" status >"$WORK/status-noperm.txt" 2>/dev/null || true
"${RCLI[@]}" ACL SETUSER "$RUSER" +fcall >/dev/null
check "health exits 0 once FCALL is allowed again" \
        wait_health 0 '^healthy: 1 instance running, 4 partitions, lag 0$' 60
log "phase 4 (NOPERM) done at $((SECONDS - t0))s"

# ---- 5. stale heartbeat, lag ----------------------------------------------
# Redis refuses writes for 3 s at a time (below redis.timeout, so the daemon
# waits instead of reconnecting) for about 18 s while 5000 more claims
# arrive: each heartbeat is late, and each one reports the backlog.
for _ in $(seq 6); do
        "${RCLI[@]}" CLIENT PAUSE 3000 WRITE >/dev/null
        sleep 3.1
done &
PAUSER=$!
"$BUILD/claimsgen" --brokers "$BROKERS" --topic "$CLAIMS" --partitions 2 \
        --claims 5000 --benes 400 --acos 2 --seed 33 --out "$WORK/gen3" >/dev/null
check "health exits 1: lag over --max-lag while Redis is slow" \
        wait_health 1 'lag [0-9]+ > 1000$' 20 --max-lag 1000
check "health exits 1: a heartbeat older than --stale-seconds" \
        wait_health 1 "$NAME heartbeat [0-9]+s old" 15 --stale-seconds 2
"${CTL[@]}" status >"$WORK/status-lag.txt" 2>/dev/null || true
wait "$PAUSER"
check "health exits 0 once caught up" \
        wait_health 0 '^healthy: 1 instance running, 4 partitions, lag 0$' 60
log "phase 5 (lag, stale) done at $((SECONDS - t0))s"

# ---- 6. stopped ---------------------------------------------------------------
# For docs/redis-keys.md: the example session below is this run's.
{
        echo "\$ redis-cli HGETALL $IKEY"
        "${RCLI[@]}" HGETALL "$IKEY" | paste - -
        echo "\$ redis-cli HGETALL $PKEY"
        "${RCLI[@]}" HGETALL "$PKEY" | paste - -
        echo "\$ redis-cli TTL $IKEY"
        "${RCLI[@]}" TTL "$IKEY"
} >"$WORK/redis-session.txt"
kill -TERM "$DAEMON_PID"
rc=0
wait "$DAEMON_PID" || rc=$?
check "SIGTERM exits 0" test "$rc" -eq 0
check "the instance keys are gone at once" \
        test -z "$("${RCLI[@]}" --scan --pattern 'claimsd:instance*')"
check "the local status file is gone" test ! -e "$STATUS_FILE"
check "health exits 2: no live claimsd instance" \
        health_is 2 '^down: no live claimsd instance$'
"$SRC/tools/redis.sh" stop "$WORK/redis"
check "health exits 2: redis unreachable, no daemon" \
        health_is 2 '^down: redis unreachable \('
check "no beneficiary id in any monitoring output" \
        bash -c "! tail -n +2 '$WORK/gen/attribution.csv' | cut -d, -f1 |
                grep -qFf - '$WORK'/status-*.txt '$WORK/status-healthy.json' \
                        '$WORK/redis-session.txt' '$WORK/health.log'"
log "total $((SECONDS - t0))s"
finish
