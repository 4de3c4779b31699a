#!/usr/bin/env bash
# The unit as `cmake --install` installs it (staged with DESTDIR): it has the
# lifecycle directives the daemon relies on (Type=notify, the watchdog,
# ExecStartPre=claimsd --check-config, ExecReload, RestartPreventExitStatus=78,
# RuntimeDirectory for the status file claimsctl health reads),
# `systemd-analyze verify` passes and the offline security review scores it
# at most 2.0 (lower is better). The unit's binary paths are pointed at the
# staged claimsd so verify can check they exist.
source "$(dirname "$0")/lib.sh"
if ! command -v systemd-analyze >/dev/null; then
        echo "systemd-analyze not available: skipped"
        echo "0 passed, 0 failed, 1 skipped"
        exit 0
fi

DESTDIR=$WORK/root cmake --install "$BUILD" >"$WORK/install.log" 2>&1 ||
        { cat "$WORK/install.log"; exit 1; }
unit=$(find "$WORK/root" -path '*/systemd/system/claimsd.service' | head -1)
check "cmake --install installs the unit" test -n "$unit"
unit=${unit:-$BUILD/claimsd.service}
sbin=$(sed -n 's|^ExecStart=\([^ ]*\)/claimsd .*|\1|p' "$unit")
for line in "Type=notify" "NotifyAccess=main" "WatchdogSec=30s" \
        "ExecStartPre=$sbin/claimsd --check-config -c /etc/claimsd/claimsd.conf" \
        "ExecStart=$sbin/claimsd -c /etc/claimsd/claimsd.conf" \
        "ExecReload=/bin/kill -HUP \$MAINPID" "RestartPreventExitStatus=78" \
        "Restart=on-failure" "RuntimeDirectory=claimsd"; do
        check "unit has $line" grep -qxF "$line" "$unit"
done
check "the installed claimsd runs" "$WORK/root$sbin/claimsd" --version
sed "s|$sbin/claimsd|$WORK/root$sbin/claimsd|g" "$unit" >"$WORK/claimsd.service"
check "systemd-analyze verify" systemd-analyze verify "$WORK/claimsd.service"
score=$(systemd-analyze security --offline=true "$WORK/claimsd.service" 2>&1 |
        sed -n 's/.*Overall exposure level for claimsd.service: \([0-9.]*\).*/\1/p')
check "systemd-analyze security exposure '$score' <= 2.0" \
        awk -v s="$score" 'BEGIN { exit !(s != "" && s <= 2.0) }'
finish
