#!/usr/bin/env bash
# The Kafka broker stops mid-stream and comes back (same data dir): the
# daemon keeps polling, librdkafka reconnects, and the totals are exact.
source "$(dirname "$0")/lib.sh"

setup_stream 4 --claims 100000 --benes 10000 --acos 4 --seed 5
write_config "$WORK/claimsd.conf" "batch.size = 100" "batch.linger = 5ms"
load_roster "$WORK/claimsd.conf"

start_daemon "$WORK/claimsd.conf" "$WORK/claimsd.log"
until [[ -n $("${RCLI[@]}" HGETALL claimsd:offset) ]]; do sleep 0.05; done
"$SRC/tools/kafka.sh" stop >/dev/null
midway=yes
applied_all "$SUM" && midway=no
check "the broker went down mid-stream" test "$midway" == yes
log "broker stopped mid-stream"
sleep 3
"$SRC/tools/kafka.sh" start >/dev/null
log "broker back"
check "daemon survived the broker outage" kill -0 "$DAEMON_PID"
check "all partitions applied after the broker came back" wait_applied "$SUM" 300
check "totals equal the oracle after a broker restart" \
        totals_match "$WORK/claimsd.conf"
kill -TERM "$DAEMON_PID"
rc=0
wait "$DAEMON_PID" || rc=$?
check "SIGTERM exits 0" test "$rc" -eq 0
finish
