#!/usr/bin/env bash
# The shipped unit: `systemd-analyze verify` passes and the offline security
# review scores it at most 2.0 (lower is better). The unit's binary paths are
# pointed at this build's claimsd so verify can check they exist.
set -euo pipefail
SRC=${CLM_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${CLM_BUILD_DIR:-$SRC/build}
if ! command -v systemd-analyze >/dev/null; then
        echo "systemd-analyze not available: skipped"
        echo "0 passed, 0 failed, 1 skipped"
        exit 0
fi
WORK=$(mktemp -d /tmp/clm-sd-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
sbin=$(sed -n 's|^ExecStart=\([^ ]*\)/claimsd .*|\1|p' "$BUILD/claimsd.service")
sed "s|$sbin/claimsd|$BUILD/claimsd|g" "$BUILD/claimsd.service" >"$WORK/claimsd.service"
passed=0
failed=0
if systemd-analyze verify "$WORK/claimsd.service"; then
        echo "ok   - systemd-analyze verify"
        passed=$((passed + 1))
else
        echo "FAIL - systemd-analyze verify"
        failed=$((failed + 1))
fi
score=$(systemd-analyze security --offline=true "$WORK/claimsd.service" 2>&1 |
        sed -n 's/.*Overall exposure level for claimsd.service: \([0-9.]*\).*/\1/p')
if [[ -n $score ]] && awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'; then
        echo "ok   - systemd-analyze security exposure $score <= 2.0"
        passed=$((passed + 1))
else
        echo "FAIL - systemd-analyze security exposure '${score}' > 2.0"
        failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
