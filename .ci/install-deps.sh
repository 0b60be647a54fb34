#!/usr/bin/env bash
# Installs every build and test dependency of Vigil on a fresh Debian 12 machine.
# Idempotent: a second run installs nothing new.
set -euo pipefail
packages=(
  build-essential cmake ninja-build ccache pkg-config
  libcaf-dev librdkafka-dev libhiredis-dev libxgboost-dev
  libboost-dev libboost-system-dev nlohmann-json3-dev catch2
  redis-server redis-tools maven default-jre-headless wrk python3 curl
  chromium chromium-driver python3-selenium
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
