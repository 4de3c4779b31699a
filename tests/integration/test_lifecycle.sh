#!/usr/bin/env bash
# claimsd as a process: --version, --check-config, exit 78 with file:line:key
# on a bad config, secrets refused when group/world readable, the systemd
# notify protocol (READY, STATUS, WATCHDOG, RELOADING after SIGHUP, READY,
# STOPPING after SIGTERM, in that order), SIGHUP reload of reloadable
# settings, and SIGTERM exiting 0.
source "$(dirname "$0")/lib.sh"

setup_topics 2
write_config "$WORK/ok.conf"

check "--version prints the version" \
        bash -c "'$BUILD/claimsd' --version | grep -q '^claimsd [0-9]'"
check "--check-config accepts a good config" \
        "$BUILD/claimsd" --check-config -c "$WORK/ok.conf"

cp "$WORK/ok.conf" "$WORK/bad.conf"
echo "batch.size = lots" >>"$WORK/bad.conf"
rc=0
"$BUILD/claimsd" --check-config -c "$WORK/bad.conf" 2>"$WORK/bad.err" || rc=$?
check "bad value exits 78" test "$rc" -eq 78
line=$(wc -l <"$WORK/bad.conf")
check "error names file, line and key" \
        grep -q "$WORK/bad.conf:$line: batch.size:" "$WORK/bad.err"
rc=0
"$BUILD/claimsd" -c "$WORK/bad.conf" 2>/dev/null || rc=$?
check "starting with a bad config exits 78" test "$rc" -eq 78

chmod 640 "$WORK/hash.secret"
rc=0
"$BUILD/claimsd" --check-config -c "$WORK/ok.conf" 2>"$WORK/perm.err" || rc=$?
chmod 600 "$WORK/hash.secret"
check "group-readable secret refused with 78" test "$rc" -eq 78
check "secret error says why" grep -q "readable by group or others" "$WORK/perm.err"

# claimsctl loads: good rows land hashed, a malformed row stops the load
# with file:line, and no beneficiary id reaches a key name or value.
printf 'mbi,aco_id,performance_year,enrollment_type,month_flags,data_sharing_excluded\n1LIFECYC0E1,A0009,2025,ESRD,4095,0\n' >"$WORK/attr.csv"
check "load-attribution loads a row" \
        "$BUILD/claimsctl" -c "$WORK/ok.conf" load-attribution "$WORK/attr.csv"
check "the row is stored under a keyed hash" \
        test "$("${RCLI[@]}" HLEN claimsd:bene:2025)" == 1
check "no beneficiary id in Redis" \
        bash -c "! ${RCLI[*]} --scan | grep -q 1LIFECYC0E1 && ! ${RCLI[*]} HGETALL claimsd:bene:2025 | grep -q 1LIFECYC0E1"
printf 'mbi,aco_id,performance_year,enrollment_type,month_flags,data_sharing_excluded\n1LIFECYC0E2,A0009,2025,MARTIAN,4095,0\n' >"$WORK/bad.csv"
rc=0
"$BUILD/claimsctl" -c "$WORK/ok.conf" load-attribution "$WORK/bad.csv" 2>"$WORK/csv.err" || rc=$?
check "malformed attribution row fails the load" test "$rc" -ne 0
check "the error names file and line" grep -q "bad.csv:2: malformed row" "$WORK/csv.err"
printf 'aco_id,performance_year,tin,npi\nA0009,2025,123456789,1234567890\n' >"$WORK/part.csv"
rc=0
"$BUILD/claimsctl" -c "$WORK/ok.conf" load-participants "$WORK/part.csv" 2>/dev/null || rc=$?
check "participant row with both TIN and NPI is refused" test "$rc" -ne 0

# A datagram socket standing in for systemd.
python3 "$SRC/tests/integration/notify.py" listen "$WORK/notify.sock" 60 \
        >"$WORK/notify.out" &
LISTENER=$!
for _ in $(seq 50); do [[ -S $WORK/notify.sock ]] && break; sleep 0.1; done
NOTIFY_SOCKET=$WORK/notify.sock WATCHDOG_USEC=2000000 \
        "$BUILD/claimsd" -c "$WORK/ok.conf" >"$WORK/claimsd.log" 2>&1 &
DAEMON_PID=$!
DAEMON_PIDS+=("$DAEMON_PID")
for _ in $(seq 200); do grep -q "READY=1" "$WORK/notify.out" && break; sleep 0.1; done
check "READY=1 sent once running" grep -q "READY=1" "$WORK/notify.out"
for _ in $(seq 50); do
        ikey=$("${RCLI[@]}" --scan --pattern 'claimsd:instance:*' | head -1)
        [[ -n $ikey ]] && break
        sleep 0.1
done
check "instance hash says running" \
        test "$("${RCLI[@]}" HGET "${ikey:-none}" state)" == running
check "instance hash expires (TTL set)" \
        test "$("${RCLI[@]}" TTL "${ikey:-none}")" -gt 0
check "claimsctl status lists the instance as running" \
        bash -c "'$BUILD/claimsctl' -c '$WORK/ok.conf' status | grep -Eq '^[^ ]+ +running '"
sleep 1.5
check "WATCHDOG=1 sent while the loop makes progress" grep -q "WATCHDOG=1" "$WORK/notify.out"

sed -i 's/^log.level = .*/log.level = info/' "$WORK/ok.conf"
echo "batch.size = 10" >>"$WORK/ok.conf"
sed -i "s/^redis.port = .*/redis.port = 1/" "$WORK/ok.conf"
kill -HUP "$DAEMON_PID"
for _ in $(seq 50); do grep -q "configuration reloaded" "$WORK/claimsd.log" && break; sleep 0.1; done
check "SIGHUP reloads" grep -q "configuration reloaded" "$WORK/claimsd.log"
check "non-reloadable change is reported, not applied" \
        grep -q "redis.port.*ignored until restart" "$WORK/claimsd.log"
check "RELOADING=1 then READY=1 around the reload" \
        bash -c "grep -n RELOADING=1 '$WORK/notify.out' | head -1 | cut -d: -f1 | \
                xargs -I{} awk 'NR>{} && /READY=1/' '$WORK/notify.out' | grep -q READY"
kill -TERM "$DAEMON_PID"
rc=0
wait "$DAEMON_PID" || rc=$?
wait "$LISTENER" || true
check "SIGTERM exits 0" test "$rc" -eq 0
check "STOPPING=1 sent on shutdown" grep -q "STOPPING=1" "$WORK/notify.out"
check "notify order: READY, STATUS, WATCHDOG, RELOADING, READY, STOPPING" \
        python3 "$SRC/tests/integration/notify.py" order "$WORK/notify.out" \
        READY STATUS WATCHDOG RELOADING READY STOPPING
check "STOPPING=1 is the last notification" \
        bash -c "tail -1 '$WORK/notify.out' | grep -q STOPPING=1"
check "daemon logged stopped" grep -q "stopped" "$WORK/claimsd.log"
finish
