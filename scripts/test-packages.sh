#!/usr/bin/env bash
# Packages a user can install: packs every packable project into a temporary folder, then, outside the repository,
#   1. builds and runs tests/packaging/ConsumerApp (AddTokenMetrics(), the handler, the IChatClient decorator, the SQLite
#      store, the mock server from TokenMetrics.Testing) restoring TokenMetrics* ONLY from that folder, and
#   2. installs the TokenMetrics.Cli tool from that folder and runs `tokenmetrics count`.
# Prints "packages: PASS" or "packages: FAIL (...)" and exits non-zero on failure.
#   bash scripts/test-packages.sh [--no-build]     (--no-build: the Release build of the solution is already there)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

no_build=()
[ "${1:-}" = "--no-build" ] && no_build=(--no-build)

work=$(mktemp -d "${TMPDIR:-/tmp}/tokenmetrics-packages.XXXXXX")
trap 'rm -rf "$work"' EXIT
log="$work/log.txt"
step=""
fail() {
  echo "packages: FAIL ($step)"
  tail -n 60 "$log" >&2 || true
  exit 1
}
trap fail ERR

step="pack"
mkdir -p "$work/feed"
dotnet pack "$repo/TokenMetrics.sln" -c Release "${no_build[@]}" -o "$work/feed" -nologo -clp:ErrorsOnly > "$log" 2>&1
for id in TokenMetrics TokenMetrics.Providers TokenMetrics.Storage.Sqlite TokenMetrics.Storage.PostgreSql TokenMetrics.Budgets.Redis TokenMetrics.Testing TokenMetrics.AspNetCore TokenMetrics.Cli TokenMetrics.Estimation.MicrosoftML; do
  ls "$work/feed/$id".[0-9]*.nupkg > /dev/null 2>&1 || { echo "no package $id" >> "$log"; false; }
done
# The version MinVer gave this commit (0.1.0-alpha.0.N before the first tag), read from the core package's name.
version=$(basename "$(ls "$work/feed"/TokenMetrics.[0-9]*.nupkg | grep -v '\.symbols\.' | head -1)" .nupkg)
version=${version#TokenMetrics.}
echo "packages: packed $(ls "$work/feed"/*.nupkg | wc -l) packages ($(ls "$work/feed"/*.snupkg 2>/dev/null | wc -l) symbol packages), version $version"

# Restore TokenMetrics* only from the fresh folder and everything else from the registry; packages go to a private
# folder (so a stale copy of this version in the user's cache can never be used), reusing the user's cache read-only.
cat > "$work/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <config>
    <add key="globalPackagesFolder" value="$work/packages" />
  </config>
  <fallbackPackageFolders>
    <clear />
    <add key="user-cache" value="${NUGET_PACKAGES:-$HOME/.nuget/packages}" />
  </fallbackPackageFolders>
  <packageSources>
    <clear />
    <add key="local" value="$work/feed" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" protocolVersion="3" />
  </packageSources>
  <packageSourceMapping>
    <packageSource key="local">
      <package pattern="TokenMetrics" />
      <package pattern="TokenMetrics.*" />
    </packageSource>
    <packageSource key="nuget.org">
      <package pattern="*" />
    </packageSource>
  </packageSourceMapping>
</configuration>
XML

step="consumer app"
cp -r "$repo/tests/packaging/ConsumerApp" "$work/app"
cp "$work/nuget.config" "$work/app/nuget.config"
(
  cd "$work/app"
  unset NUGET_PACKAGES
  dotnet restore -p:TokenMetricsVersion="$version" > "$log" 2>&1
  # Fresh from the feed, not from any cache.
  for id in tokenmetrics tokenmetrics.storage.sqlite tokenmetrics.testing; do
    [ -d "$work/packages/$id/$version" ] || { echo "$id $version was not restored from the feed" >> "$log"; exit 1; }
  done
  dotnet build -c Release --no-restore -p:TokenMetricsVersion="$version" -nologo -clp:ErrorsOnly >> "$log" 2>&1
  dotnet bin/Release/net10.0/ConsumerApp.dll >> "$log" 2>&1
) || false
grep '^consumer:' "$log" | sed 's/^/packages: /'

step="dotnet tool install"
# A tool package carries its dependencies, so the feed is its only source (--add-source cannot be combined with
# packageSourceMapping, hence a config of its own with every other source cleared).
mkdir -p "$work/cwd"
cat > "$work/cwd/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <config>
    <add key="globalPackagesFolder" value="$work/packages" />
  </config>
  <packageSources>
    <clear />
  </packageSources>
</configuration>
XML
(
  cd "$work/cwd"
  unset NUGET_PACKAGES
  dotnet tool install TokenMetrics.Cli --version "$version" --tool-path "$work/tools" \
    --configfile "$work/cwd/nuget.config" --add-source "$work/feed" > "$log" 2>&1
) || false

step="tokenmetrics count"
printf 'Hello, world! TokenMetrics counts tokens.\n' > "$work/hello.txt"
"$work/tools/tokenmetrics" count --encoding o200k_base --json "$work/hello.txt" > "$log" 2>&1
grep -q '"tokens":' "$log" || { echo "no token count in the output" >> "$log"; false; }
echo "packages: tokenmetrics count -> $(head -1 "$log")"

trap - ERR
echo "packages: PASS (packed $version, consumer app ran against the packages, tool installed and ran)"
