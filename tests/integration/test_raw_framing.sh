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
"$BUILD/claimsctl" -c "$WORK/claimsd.conf" totals >"$WORK/got.tsv"
check "raw framing: totals equal the oracle" \
        diff -q "$WORK/gen/expected.tsv" "$WORK/got.tsv"
"${RCLI[@]}" --raw XRANGE claimsd:dlq - + |
        awk 'NR%7==3{tp=$0} NR%7==5{off=$0} NR%7==0{print tp "/" off "\t" $0}' |
        LC_ALL=C sort >"$WORK/dlq-redis.tsv"
check "raw framing: dead letters equal the injected bad messages" \
        diff -u "$WORK/gen/dlq.tsv" "$WORK/dlq-redis.tsv"
finish
