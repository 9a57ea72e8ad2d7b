#!/usr/bin/env bash
# wg-standin.sh CONF IFACE - stands in for `meshagent run --wg-config CONF --interface IFACE`
# by running wireguard-go with the same wg-quick config. It exists only to check
# run.sh's "ours" code path without the agent:
#
#   bench/e2e/run.sh --only ours --ours-cmd 'bench/e2e/wg-standin.sh {conf} {iface}'
#
# The final `exec` makes wireguard-go keep this script's PID, so run.sh measures
# the CPU and RSS of wireguard-go itself. A detached helper waits for the UAPI
# socket, loads the config minus the wg-quick-only keys (`wg setconf` rejects
# Address, MTU, DNS, Table, Pre/PostUp/Down, SaveConfig) and sets the address,
# the MTU and the link up, as the agent is expected to do on its own.
set -euo pipefail

[[ $# == 2 ]] || { echo "usage: $0 WG_QUICK_CONF IFACE" >&2; exit 64; }
conf=$1 iface=$2
[[ -r $conf ]] || { echo "$0: cannot read config '$conf'" >&2; exit 66; }

# values of KEY in the [Interface] section (comma lists split, spaces dropped)
iface_values() {
	awk -v key="$1" '
		/^[[:space:]]*\[/ { sect = tolower($0); gsub(/[][[:space:]]/, "", sect); next }
		sect == "interface" {
			line = $0; sub(/#.*/, "", line)
			k = line; sub(/=.*/, "", k); gsub(/[[:space:]]/, "", k)
			if (tolower(k) != tolower(key)) next
			v = line; sub(/^[^=]*=/, "", v); gsub(/[[:space:]]/, "", v)
			n = split(v, parts, ",")
			for (i = 1; i <= n; i++) if (parts[i] != "") print parts[i]
		}' "$conf"
}
mapfile -t addrs < <(iface_values Address)
mtu=$(iface_values MTU | head -n 1)
stripped=$(grep -Eiv '^[[:space:]]*(Address|MTU|DNS|Table|PreUp|PostUp|PreDown|PostDown|SaveConfig)[[:space:]]*=' "$conf")

configure() {
	local i
	for i in $(seq 1 100); do
		[[ -S /var/run/wireguard/$iface.sock ]] && break
		sleep 0.05
	done
	wg setconf "$iface" <(printf '%s\n' "$stripped")
	for a in "${addrs[@]}"; do ip addr add "$a" dev "$iface"; done
	if [[ -n $mtu ]]; then ip link set "$iface" mtu "$mtu"; fi
	ip link set "$iface" up
	echo "wg-standin: $iface configured (${addrs[*]}, mtu ${mtu:-default})"
}
# double fork: the helper is reparented to init instead of lingering as a
# zombie child of wireguard-go
( ( configure || echo "wg-standin: configuring $iface failed" >&2 ) & )
exec wireguard-go -f "$iface"
