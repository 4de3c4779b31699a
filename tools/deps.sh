#!/usr/bin/env bash
# Installs the Debian packages the build, the tests and the demo need, but
# only those that are missing (so it is a fast no-op on a ready machine).
# Runs apt-get as root, or through sudo when not root.
set -euo pipefail

PKGS=(
        build-essential cmake pkg-config
        librdkafka-dev libavro-dev libhiredis-dev libcriterion-dev
        redis-server redis-tools kcat
        procps ca-certificates openssl
        # tests/integration/test_report.sh renders the audit report headless;
        # the fonts are only a Recommends of chromium.
        chromium fonts-liberation
)
# Java and Maven may come from outside apt (e.g. a CI image's own JDK);
# only install Debian's when the command itself is missing.
command -v java >/dev/null 2>&1 || PKGS+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || PKGS+=(maven)
command -v python3 >/dev/null 2>&1 || PKGS+=(python3)

missing=()
for p in "${PKGS[@]}"; do
        status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
        [[ $status == "install ok installed" ]] || missing+=("$p")
done
if ((${#missing[@]} > 0)); then
        SUDO=()
        ((EUID == 0)) || SUDO=(sudo)
        echo "deps.sh: installing ${missing[*]}" >&2
        export DEBIAN_FRONTEND=noninteractive
        "${SUDO[@]}" apt-get update -qq
        "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Kafka 4.x brokers need Java 17+; a too-old JDK on PATH fails obscurely.
jv=$(java -XshowSettings:properties -version 2>&1 | awk -F' = ' '/java.specification.version/ {print $2}')
[[ ${jv%%.*} -ge 17 ]] 2>/dev/null || {
        echo "deps.sh: need Java >= 17 for the Kafka broker, found '${jv:-none}'" >&2
        exit 1
}
