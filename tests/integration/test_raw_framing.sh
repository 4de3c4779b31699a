#!/usr/bin/env bash
# The same pipeline on bare Avro values (input.framing = raw, no Confluent
# prefix): totals and dead letters must still equal the oracle.
source "$(dirname "$0")/lib.sh"

setup_stream 4 --framing raw --claims 20000 --benes 4000 --acos 3 --bad 12 \
        --seed 3
write_config "$WORK/claimsd.conf" "input.framing = raw"
load_roster "$WORK/claimsd.conf"
start_daemon "$WORK/claimsd.conf" "$WORK/claimsd.log"
check "all partitions applied" wait_applied "$SUM" 120
kill -TERM "$DAEMON_PID"
wait "$DAEMON_PID" || true
check "raw framing: totals equal the oracle" \
        totals_match "$WORK/claimsd.conf"
dlq_stream >"$WORK/dlq-redis.tsv"
check "raw framing: dead letters equal the injected bad messages" \
        diff -u "$WORK/gen/dlq.tsv" "$WORK/dlq-redis.tsv"
finish
