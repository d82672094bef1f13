#!/usr/bin/env bash
# The one test command (README, CI): installs what the tests need when it is missing, then runs every test.
# Safe to re-run; needs root (or sudo) only when something must be installed.
set -euo pipefail
cd "$(dirname "$0")/.."

need_dotnet() {
  if command -v dotnet >/dev/null 2>&1 && dotnet --list-sdks | grep -q '^10\.'; then
    return
  fi
  echo "test.sh: the .NET 10 SDK is required (https://dot.net); the project machines have it preinstalled." >&2
  exit 1
}

need_dotnet
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# Servers the tests start themselves (PostgreSQL, InfluxDB, Prometheus...): each file in scripts/services.d installs its
# packages when missing. The tests start and stop their own instances on 127.0.0.1 with temporary data directories.
apt_updated=0
apt_install() {
  local missing=()
  for pkg in "$@"; do
    # "deinstall ok config-files" (removed, config kept) is not installed: only "install ok installed" counts.
    [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" = "install ok installed" ] || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  if [ $apt_updated -eq 0 ]; then
    $sudo apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
for f in scripts/services.d/*.sh; do
  [ -e "$f" ] || continue
  # shellcheck source=/dev/null
  . "$f"
done

# Release build first so warnings-as-errors fail fast and tests run on optimised code.
dotnet build TokenMetrics.sln -c Release -nologo -clp:ErrorsOnly
dotnet test TokenMetrics.sln -c Release --no-build -nologo "$@" 2>&1 | tee /tmp/tokenmetrics-test.log
status=${PIPESTATUS[0]}

# Packages a user can install: pack, a consumer app outside the repo, the dotnet tool (counted as one more test).
packages_passed=0 packages_failed=0
if bash scripts/test-packages.sh --no-build; then packages_passed=1; else packages_failed=1; status=1; fi

# One closing line in the form CI reads: "N passed, N failed".
passed=$(grep -Eo 'Passed: +[0-9]+' /tmp/tokenmetrics-test.log | awk '{s+=$2} END {print s+0}')
failed=$(grep -Eo 'Failed: +[0-9]+' /tmp/tokenmetrics-test.log | awk '{s+=$2} END {print s+0}')
skipped=$(grep -Eo 'Skipped: +[0-9]+' /tmp/tokenmetrics-test.log | awk '{s+=$2} END {print s+0}')
passed=$((passed + packages_passed))
failed=$((failed + packages_failed))
echo "tests: ${passed} passed, ${failed} failed, ${skipped} skipped"
exit "$status"
