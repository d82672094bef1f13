#!/bin/bash
# Quick public-API fix-up: builds the project, appends the RS0016 symbols it reports to PublicAPI.Unshipped.txt, sorts.
# usage: scripts/fix-public-api.sh src/<project>   (scripts/update-public-api.sh regenerates everything; slower)
proj=$1
f=$proj/PublicAPI.Unshipped.txt
for i in 1 2 3; do
  out=$(dotnet build $proj -c Release -nologo -clp:ErrorsOnly 2>&1)
  syms=$(echo "$out" | grep "error RS0016" | grep -o "Symbol '[^']*'" | sed "s/^Symbol '//;s/'$//" | sort -u)
  [ -z "$syms" ] && break
  { head -1 $f; (tail -n +2 $f; echo "$syms") | grep -v '^$' | sort -u; } > /tmp/api.$$ && mv /tmp/api.$$ $f
done
echo "$out" | grep -E "error|Warn|Error" | sort -u | head -20
