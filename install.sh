#!/usr/bin/env bash
# Installs MeshAgent on a Debian-like machine: runtime packages, a self-contained single-file
# build of `meshagent` in /usr/local/bin, and the systemd units meshagent.service (membership
# mode) and meshagent@.service (static mode, one wg-quick config per instance).
# Needs root and the .NET 10 SDK (`dotnet`) to build.
set -euo pipefail
cd "$(dirname "$0")"

if [ "$(id -u)" -ne 0 ]; then
  echo "install.sh: run as root (it installs packages, /usr/local/bin/meshagent and a systemd unit)" >&2
  exit 1
fi
if ! command -v dotnet >/dev/null; then
  echo "install.sh: the .NET 10 SDK is needed to build (https://dot.net); 'dotnet' is not on PATH" >&2
  exit 3
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends libsodium23 libssl3 iproute2 >/dev/null

rid=linux-x64
case "$(uname -m)" in aarch64) rid=linux-arm64 ;; esac
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
dotnet publish agent/MeshAgent/MeshAgent.csproj -c Release -r "$rid" --self-contained true \
  -p:PublishSingleFile=true -p:IncludeNativeLibrariesForSelfExtract=true -o "$out" -nologo -v quiet
install -m 0755 "$out/meshagent" /usr/local/bin/meshagent
# meshrelay: optional, for a host with a public address (see packaging/systemd/meshrelay.service).
dotnet publish relay/MeshAgent.Relay/MeshAgent.Relay.csproj -c Release -r "$rid" --self-contained true \
  -p:PublishSingleFile=true -p:IncludeNativeLibrariesForSelfExtract=true -o "$out" -nologo -v quiet
install -m 0755 "$out/meshrelay" /usr/local/bin/meshrelay
install -d -m 0700 /etc/meshagent /var/lib/meshagent
install -D -m 0644 packaging/systemd/meshagent.service /etc/systemd/system/meshagent.service
install -D -m 0644 packaging/systemd/meshagent@.service /etc/systemd/system/meshagent@.service
install -D -m 0644 packaging/systemd/meshrelay.service /etc/systemd/system/meshrelay.service
install -D -m 0644 README.md /usr/local/share/doc/meshagent/README.md
command -v systemctl >/dev/null && systemctl daemon-reload || true

echo "meshagent installed: $(/usr/local/bin/meshagent --version 2>/dev/null || echo /usr/local/bin/meshagent)"
echo "next: systemctl enable --now meshagent, then either 'meshagent init --network NAME' (a new network)"
echo "      or 'meshagent join TOKEN' (a token from 'meshagent invite' on an admin node)."
echo "      Static mode instead: put a wg-quick config in /etc/meshagent/wg0.conf, then systemctl enable --now meshagent@wg0"
