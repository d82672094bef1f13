#!/usr/bin/env bash
# Writes every packable project's public API into its PublicAPI.Unshipped.txt (Microsoft.CodeAnalysis.PublicApiAnalyzers).
# Run it after adding, changing or removing public API, then review the diff of the PublicAPI.*.txt files:
#   bash scripts/update-public-api.sh
# It rebuilds src/ with the analyzer's findings as warnings, adds each undeclared symbol (RS0016) to Unshipped, and
# drops each declared symbol that no longer exists (RS0017) from Unshipped (or marks it *REMOVED* when it had shipped).
# The diagnostics' own text is the file format, so the result is exactly what the build checks.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

projects=()
for p in src/*/*.csproj; do
  grep -q '<IsPackable>false</IsPackable>' "$p" || projects+=("$PWD/$p")
done

# One traversal build so each project compiles once, whatever references it.
{
  echo '<Project><ItemGroup>'
  for p in "${projects[@]}"; do echo "  <P Include=\"$p\" />"; done
  echo '</ItemGroup><Target Name="Build"><MSBuild Projects="@(P)" Targets="Restore" Properties="_Pass=restore" />'
  echo '<MSBuild Projects="@(P)" Targets="Rebuild" Properties="Configuration=Release;TreatWarningsAsErrors=false;MSBuildTreatWarningsAsErrors=false;WarningsAsErrors=" /></Target></Project>'
} > "$work/all.proj"

for pass in 1 2; do
  dotnet msbuild "$work/all.proj" -nologo -v:q -clp:NoSummary -p:_Unused=$pass > "$work/build.log" 2>&1 || {
    cat "$work/build.log" >&2
    echo "update-public-api: the build failed (errors other than the public API ones above)" >&2
    exit 1
  }
  # "path/File.cs(1,2): warning RS0016: Symbol 'X' is not part of the declared public API (...) [/abs/Project.csproj]"
  grep -E 'warning RS001[67]:' "$work/build.log" | sort -u > "$work/api.log" || true
  [ -s "$work/api.log" ] || { echo "update-public-api: every PublicAPI.*.txt is up to date"; exit 0; }
  for p in "${projects[@]}"; do
    dir=$(dirname "$p")
    unshipped="$dir/PublicAPI.Unshipped.txt"
    shipped="$dir/PublicAPI.Shipped.txt"
    [ -f "$unshipped" ] || printf '#nullable enable\n' > "$unshipped"
    [ -f "$shipped" ] || printf '#nullable enable\n' > "$shipped"
    grep -F "[$p]" "$work/api.log" > "$work/mine.log" || continue
    sed -nE "s/.*warning RS0016: Symbol '(.*)' is not part of the declared public API.*/\1/p" "$work/mine.log" > "$work/add.txt"
    sed -nE "s/.*warning RS0017: Symbol '(.*)' is part of the declared API, but is either not public or could not be found.*/\1/p" "$work/mine.log" > "$work/gone.txt"
    {
      grep -vxF -f "$work/gone.txt" "$unshipped" | grep -v '^#nullable enable$' || true
      cat "$work/add.txt"
      grep -xF -f "$work/gone.txt" "$shipped" | sed 's/^/*REMOVED*/' || true
    } | LC_ALL=C sort -u > "$work/new.txt"
    { echo '#nullable enable'; cat "$work/new.txt"; } > "$unshipped"
    echo "update-public-api: $(basename "$dir"): +$(wc -l < "$work/add.txt") -$(wc -l < "$work/gone.txt")"
  done
done
echo "update-public-api: still out of date after two passes:" >&2
cat "$work/api.log" >&2
exit 1
