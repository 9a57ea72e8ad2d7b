#!/usr/bin/env bash
# The one test command (README "Tests"): builds the solution, runs every test project and
# ends with one line "N passed, N failed" summed over all of them.
# Integration tests need root, /dev/net/tun and the Debian packages that .ci/run installs.
set -uo pipefail
cd "$(dirname "$0")/.."
results=$(mktemp -d /tmp/meshagent-tests.XXXXXX)
trap 'rm -rf "$results"' EXIT

dotnet build MeshAgent.sln -c Release -nologo -v quiet || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }

status=0
for project in tests/*.Tests/*.csproj; do
  name=$(basename "$project" .csproj)
  echo "== $name"
  dotnet test "$project" -c Release --no-build --nologo \
    --logger "trx;LogFileName=$results/$name.trx" "$@" || status=1
done

passed=0; failed=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters"); f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
done
# A project that crashed before writing results counts as one failure.
expected=$(ls tests/*.Tests/*.csproj | wc -l); got=$(ls "$results"/*.trx 2>/dev/null | wc -l)
if [ "$got" -lt "$expected" ]; then failed=$((failed + expected - got)); status=1; fi
[ "$failed" -gt 0 ] && status=1
echo "$passed passed, $failed failed"
exit $status
