#!/usr/bin/env bash
# Kafka over TLS, through the kafka.* pass-through. A second, throwaway KRaft
# broker (the Kafka 4.1 jars of tools/kafka.sh) gets a CA and a certificate
# made here by openssl, an SSL listener and a SASL_SSL listener (SCRAM-SHA-512
# users created at format time, and PLAIN). claimsgen produces over TLS;
# claimsd reads over SSL, then over SASL_SSL with its password in
# kafka.sasl.password_file, and Redis equals the oracle both times. The dead
# letters go out over TLS too. A claimsd given the wrong CA does not connect,
# keeps running and says why. No id or password reaches a log.
#
# SCRAM: librdkafka before 2.6.1 repeats the client nonce in its final SCRAM
# message (librdkafka#4895), and Kafka 4.x brokers check it strictly, so
# Debian 12's librdkafka 2.0.2 is refused there. With such a librdkafka this
# test checks that the refusal is clear and harmless; with 2.6.1 or later it
# checks exact totals over SCRAM as well.
source "$(dirname "$0")/lib.sh"

P_SSL=${CLM_TLS_KAFKA_PORT:-19192} # SASL_SSL: +1, controller: +2
P_SASL=$((P_SSL + 1))
P_CTRL=$((P_SSL + 2))
KVAR=${CLM_VAR:-$SRC/var}/kafka
TLS=$WORK/tls
KPID=

stop_broker() {
        local i
        [[ -n $KPID ]] || return 0
        kill -TERM "$KPID" 2>/dev/null || true
        for ((i = 0; i < 150; i++)); do
                kill -0 "$KPID" 2>/dev/null || break
                sleep 0.2
        done
        kill -KILL "$KPID" 2>/dev/null || true
        wait "$KPID" 2>/dev/null || true
        KPID=
}
trap 'stop_broker; cleanup' EXIT

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# make_certs: a CA, and a broker certificate for 127.0.0.1 signed by it (the
# broker reads key and chain as one PEM); a second CA that signed nothing.
make_certs() {
        local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
        mkdir -p "$TLS"
        openssl req -x509 "${ec[@]}" -keyout "$TLS/ca.key" -out "$TLS/ca.pem" \
                -days 2 -subj "/CN=claimsd test CA" \
                -addext "basicConstraints=critical,CA:TRUE" \
                -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
        openssl req "${ec[@]}" -keyout "$TLS/broker.key" -out "$TLS/broker.csr" \
                -subj "/CN=127.0.0.1" 2>/dev/null
        printf '%s\n' "subjectAltName=IP:127.0.0.1" \
                "extendedKeyUsage=serverAuth" >"$TLS/broker.ext"
        openssl x509 -req -in "$TLS/broker.csr" -CA "$TLS/ca.pem" \
                -CAkey "$TLS/ca.key" -CAcreateserial -days 2 \
                -extfile "$TLS/broker.ext" -out "$TLS/broker.pem" 2>/dev/null
        cat "$TLS/broker.key" "$TLS/broker.pem" >"$TLS/broker-keystore.pem"
        openssl req -x509 "${ec[@]}" -keyout "$TLS/other.key" \
                -out "$TLS/other-ca.pem" -days 2 -subj "/CN=some other CA" 2>/dev/null
}

write_props() {
        cat >"$TLS/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$P_CTRL
listeners=SSL://127.0.0.1:$P_SSL,SASL_SSL://127.0.0.1:$P_SASL,CONTROLLER://127.0.0.1:$P_CTRL
advertised.listeners=SSL://127.0.0.1:$P_SSL,SASL_SSL://127.0.0.1:$P_SASL
controller.listener.names=CONTROLLER
inter.broker.listener.name=SSL
listener.security.protocol.map=CONTROLLER:PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL
ssl.keystore.type=PEM
ssl.keystore.location=$TLS/broker-keystore.pem
ssl.truststore.type=PEM
ssl.truststore.location=$TLS/ca.pem
ssl.client.auth=none
sasl.enabled.mechanisms=SCRAM-SHA-512,PLAIN
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_claimsd="$PLAIN_PW";
log.dirs=$TLS/data
auto.create.topics.enable=false
num.partitions=2
offsets.topic.replication.factor=1
offsets.topic.num.partitions=2
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=2
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
EOF
        printf '%s\n' security.protocol=SSL ssl.truststore.type=PEM \
                "ssl.truststore.location=$TLS/ca.pem" >"$TLS/admin.properties"
}

jrun() {
        java -Dlog4j2.configurationFile="$SRC/tools/kafka/log4j2.properties" \
                -cp "$KVAR/libs/*" "$@"
}

# The usual librdkafka client settings for the SSL listener.
KCAT_SSL=(-X security.protocol=SSL -X "ssl.ca.location=$TLS/ca.pem")

start_broker() {
        local p cid t0
        for p in "$P_SSL" "$P_SASL" "$P_CTRL"; do
                if port_open "$p"; then
                        echo "127.0.0.1:$p is in use (set CLM_TLS_KAFKA_PORT)" >&2
                        exit 1
                fi
        done
        "$SRC/tools/kafka.sh" fetch
        cid=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
        jrun kafka.tools.StorageTool format -t "$cid" -c "$TLS/server.properties" \
                --add-scram "SCRAM-SHA-512=[name=claimsd,password=$SCRAM_PW]" \
                >"$TLS/format.log" 2>&1
        nohup java -Xms128m -Xmx384m -XX:+UseG1GC -Djava.awt.headless=true \
                -Dlog4j2.configurationFile="$SRC/tools/kafka/log4j2.properties" \
                -cp "$KVAR/libs/*" kafka.Kafka "$TLS/server.properties" \
                </dev/null >"$TLS/server.log" 2>&1 &
        KPID=$!
        t0=$SECONDS
        until timeout 10 kcat -b "127.0.0.1:$P_SSL" "${KCAT_SSL[@]}" -L -m 3 2>/dev/null |
                grep -q "broker 1 at 127.0.0.1:$P_SSL"; do
                if ! kill -0 "$KPID" 2>/dev/null || ((SECONDS - t0 > 90)); then
                        echo "TLS broker did not come up; last lines of its log:" >&2
                        tail -n 40 "$TLS/server.log" >&2
                        exit 1
                fi
                sleep 0.5
        done
        log "TLS broker up on $P_SSL (SSL) and $P_SASL (SASL_SSL) in $((SECONDS - t0)) s"
}

tls_topic() {
        jrun org.apache.kafka.tools.TopicCommand --bootstrap-server "127.0.0.1:$P_SSL" \
                --command-config "$TLS/admin.properties" --create --topic "$1" \
                --partitions "$2" --replication-factor 1 >/dev/null
}

# version_ge A B: version A >= version B.
version_ge() { [[ $(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n 1) == "$2" ]]; }

# run_leg NAME EXTRA_LINES...: fresh Redis data, the roster, claimsd on the
# TLS broker until every partition is applied; then SIGTERM.
run_leg() {
        local name=$1 rc=0
        shift
        "${RCLI[@]}" FLUSHALL >/dev/null
        write_config "$WORK/$name.conf" "$@"
        load_roster "$WORK/$name.conf"
        start_daemon "$WORK/$name.conf" "$WORK/claimsd-$name.log"
        check "$name: all partitions applied" wait_applied "$SUM" 90
        kill -TERM "$DAEMON_PID"
        wait "$DAEMON_PID" || rc=$?
        check "$name: SIGTERM exits 0" test "$rc" -eq 0
        check "$name: Redis totals equal the oracle" totals_match "$WORK/$name.conf"
}

# refused NAME PATTERN EXTRA_LINES...: claimsd cannot get in; after 8 s it
# is still running, nothing is applied, and its log matches PATTERN.
refused() {
        local name=$1 pattern=$2 rc=0
        shift 2
        "${RCLI[@]}" FLUSHALL >/dev/null
        write_config "$WORK/$name.conf" "$@"
        start_daemon "$WORK/$name.conf" "$WORK/claimsd-$name.log"
        sleep 8
        check "$name: daemon still running" kill -0 "$DAEMON_PID"
        check "$name: nothing applied" test -z "$("${RCLI[@]}" HGETALL claimsd:offset)"
        check "$name: the log says why" grep -q "$pattern" "$WORK/claimsd-$name.log"
        kill -TERM "$DAEMON_PID"
        wait "$DAEMON_PID" || rc=$?
        check "$name: SIGTERM exits 0" test "$rc" -eq 0
}

PLAIN_PW=plain-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
SCRAM_PW=scram-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
make_certs
write_props
start_broker

redis_up
CLAIMS=claims-$RUN_ID
ATTR=attr-$RUN_ID
DLQ=dlq-$RUN_ID
pids=()
tls_topic "$CLAIMS" 2 & pids+=($!)
tls_topic "$ATTR" 1 & pids+=($!)
tls_topic "$DLQ" 1 & pids+=($!)
for p in "${pids[@]}"; do wait "$p"; done
BROKERS=127.0.0.1:$P_SSL
"$BUILD/claimsgen" --brokers "$BROKERS" "${KCAT_SSL[@]}" --topic "$CLAIMS" \
        --partitions 2 --claims 3000 --benes 600 --acos 2 --seed 31 --canary \
        --out "$WORK/gen" >"$WORK/gen.log"
SUM=$WORK/gen/summary.txt
check "claimsgen produced over TLS" test "$(summary_of "$SUM" messages)" -gt 3000

# SSL: server certificate checked against our CA (and, by librdkafka's
# default, its name against 127.0.0.1).
SSL_LINES=("kafka.security.protocol = SSL" "kafka.ssl.ca.location = $TLS/ca.pem")
run_leg ssl "${SSL_LINES[@]}"
kcat -C -b "$BROKERS" "${KCAT_SSL[@]}" -t "$DLQ" -e -q -f '%k\n' >"$WORK/dlq.keys" 2>/dev/null
check "ssl: the dead letters went to Kafka over TLS ($(wc -l <"$WORK/gen/dlq.tsv"))" \
        test "$(wc -l <"$WORK/dlq.keys")" -eq "$(wc -l <"$WORK/gen/dlq.tsv")"

# SASL_SSL: the password comes from a 0600 file, never from the config.
BROKERS=127.0.0.1:$P_SASL
printf '%s\n' "$PLAIN_PW" >"$WORK/kafka-plain.pw"
chmod 600 "$WORK/kafka-plain.pw"
SASL_LINES=("kafka.security.protocol = SASL_SSL" "kafka.ssl.ca.location = $TLS/ca.pem"
        "kafka.sasl.username = claimsd")
chmod 640 "$WORK/kafka-plain.pw"
write_config "$WORK/perm.conf" "${SASL_LINES[@]}" "kafka.sasl.mechanisms = PLAIN" \
        "kafka.sasl.password_file = $WORK/kafka-plain.pw"
rc=0
"$BUILD/claimsd" --check-config -c "$WORK/perm.conf" >/dev/null 2>"$WORK/perm.err" || rc=$?
check "a group-readable kafka.sasl.password_file is refused (exit 78)" test "$rc" -eq 78
check "... and the error names the file and the fix" \
        grep -q "kafka.sasl.password_file: .*kafka-plain.pw is readable by group or others (chmod 600)" \
        "$WORK/perm.err"
chmod 600 "$WORK/kafka-plain.pw"
run_leg sasl-plain "${SASL_LINES[@]}" "kafka.sasl.mechanisms = PLAIN" \
        "kafka.sasl.password_file = $WORK/kafka-plain.pw"

printf '%s\n' "$SCRAM_PW" >"$WORK/kafka-scram.pw"
chmod 600 "$WORK/kafka-scram.pw"
SCRAM_LINES=("${SASL_LINES[@]}" "kafka.sasl.mechanisms = SCRAM-SHA-512"
        "kafka.sasl.password_file = $WORK/kafka-scram.pw")
RDK=$(pkg-config --modversion rdkafka 2>/dev/null || echo 0)
if version_ge "$RDK" 2.6.1; then
        run_leg sasl-scram "${SCRAM_LINES[@]}"
else
        log "librdkafka $RDK < 2.6.1: Kafka 4.x refuses its SCRAM (librdkafka#4895)"
        refused "scram-librdkafka-$RDK" "SASL authentication error" "${SCRAM_LINES[@]}"
fi

BROKERS=127.0.0.1:$P_SSL
refused wrong-ca "certificate verify failed" "kafka.security.protocol = SSL" \
        "kafka.ssl.ca.location = $TLS/other-ca.pem"

check "no beneficiary or claim id in any log" \
        bash -c "! grep -q -e 1CANARY0MB1 -e CANARYCLAIM0001 $WORK/claimsd-*.log"
check "no Kafka password in any log" \
        bash -c "! grep -q -e '$PLAIN_PW' -e '$SCRAM_PW' $WORK/claimsd-*.log"
finish
