#!/usr/bin/env bash
# bench/e2e/run.sh - end-to-end bench: our agent side by side with wireguard-go
# and nebula, plus a raw veth baseline, in throwaway network namespaces.
#
# Usage (root):
#   bench/e2e/run.sh [--duration 10] [--only ours,wireguard-go,nebula] [--out FILE.md] [more knobs]
#
# Topology, rebuilt from scratch for every row:
#
#   netns mb<pid>-<row>-a [ul0 192.0.2.1/24] ==veth MTU 1500== [ul0 192.0.2.2/24] netns mb<pid>-<row>-b
#        tunnel daemon A, iperf3 client, ping              tunnel daemon B, iperf3 server
#
# The veth pair is created directly inside the two namespaces (`ip -n A link add
# ... peer ... netns B`): no link, address or route ever exists in the root
# namespace. Overlays: wireguard-go 100.64.1.0/24, nebula 100.64.2.0/24, ours
# 100.64.3.0/24.
#
# Rows, in this order:
#   raw           iperf3/ping straight over the veth (kernel offloads on): the ceiling
#   ours          `dotnet agent/MeshAgent/bin/Release/net10.0/meshagent.dll run
#                 --wg-config FILE --interface NAME` per side, each with a wg-quick
#                 config ([Interface] PrivateKey ListenPort Address MTU, [Peer]
#                 PublicKey Endpoint AllowedIPs) from `wg genkey`/`wg pubkey`. The
#                 agent brings up its interface, address and MTU itself. Built with
#                 `dotnet build -c Release agent/MeshAgent/MeshAgent.csproj` first if
#                 the dll is missing (the executable's project only, not the tests).
#                 If no ping gets through within --up-timeout, the agents' logs are
#                 printed and the row is marked FAILED; the other rows still run.
#   wireguard-go  anchor: Debian wireguard-go, configured with `wg setconf` from the
#                 same kind of wg-quick config as ours (ChaCha20-Poly1305)
#   nebula        anchor: Debian nebula, B is the lighthouse, A knows B from
#                 static_host_map; throwaway CA and certs from nebula-cert
#
# Per row it measures:
#   * ping RTT A->B through the tunnel on the idle tunnel: --pings pings at
#     --ping-interval; avg and p99 (nearest rank) from the per-reply times;
#   * iperf3 TCP A->B through the tunnel, 1 stream then 4 streams (-P 4),
#     --duration s each, `-J` parsed by report.py: receiver-side Gbit/s;
#   * CPU seconds (utime+stime from /proc/PID/stat, all threads) of both tunnel
#     daemons, during each iperf3 run;
#   * VmRSS (/proc/PID/status) of both daemons when the tunnel is up and idle
#     (before any load) and after the iperf3 runs.
# The report (markdown, stdout and --out) gives every figure and its ratio to the
# best anchor of this run (best of wireguard-go/nebula: highest throughput,
# lowest RTT/CPU/RSS), a per-daemon detail table and the machine info.
#
# Knobs (defaults in brackets):
#   --duration S        iperf3 seconds per run [10]
#   --only LIST         tunnels, comma separated, from ours,wireguard-go,nebula
#                       [all three]; the raw row always runs unless --no-raw
#   --no-raw            skip the raw veth baseline
#   --out FILE          also write the markdown report to FILE
#   --pings N           pings per row [200]
#   --ping-interval S   seconds between pings [0.01]
#   --up-timeout S      wait this long for the first ping through a tunnel [20]
#   --settle S          pause after the tunnel is up, before measuring [2]
#   --pin [CPU_A,CPU_B] pin everything in A (daemon, iperf3 client, ping) to
#                       CPU_A and everything in B (daemon, iperf3 server) to CPU_B
#                       [off; bare --pin means 0,1]. Off by default because the
#                       published anchors (shared/lab anchors.sh, PIN=0) let both
#                       sides float over both cores; --pin emulates two 1-core hosts.
#   --wg-mtu N          tunnel MTU of ours and wireguard-go [1420]
#   --nebula-mtu N      nebula tun MTU [1300, nebula's default]
#   --nebula-cipher C   aes (nebula's default, AES-256-GCM) or chachapoly [aes]
#   --ours-cmd 'CMD'    how to start our agent; words split on spaces, {conf} and
#                       {iface} replaced, run from the repository root [dotnet
#                       agent/MeshAgent/bin/Release/net10.0/meshagent.dll run
#                       --wg-config {conf} --interface {iface}]. To check this
#                       path without the agent:
#                       --ours-cmd 'bench/e2e/wg-standin.sh {conf} {iface}'
#   --build             build the agent (as above) before the ours row even if
#                       the dll exists
#   --keep              keep the work directory (configs, daemon logs, iperf3 JSON)
#
# Needs root, /dev/net/tun, python3, and the Debian packages iproute2
# iputils-ping iperf3 wireguard-go wireguard-tools nebula (util-linux for --pin).
# Cleanup: on exit, error or Ctrl-C it stops, by PID, the processes it started
# (and any left inside its own namespaces), deletes its namespaces (prefix
# mb<pid>-), the wireguard-go UAPI sockets of its interfaces (mb<pid>w[ab],
# mb<pid>o[ab]) and its work directory.
set -Eeuo pipefail
export LC_ALL=C

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
REPORT_PY="$HERE/report.py"

DURATION=10
ONLY="ours,wireguard-go,nebula"
RAW=1
OUT=
PINGS=200
PING_INTERVAL=0.01
UP_TIMEOUT=20
SETTLE=2
PIN=
WG_MTU=1420
NEBULA_MTU=1300
NEBULA_CIPHER=aes
AGENT_DLL="agent/MeshAgent/bin/Release/net10.0/meshagent.dll"
AGENT_PROJ="agent/MeshAgent/MeshAgent.csproj"
DEFAULT_OURS_CMD="dotnet $AGENT_DLL run --wg-config {conf} --interface {iface}"
OURS_CMD=$DEFAULT_OURS_CMD
BUILD=0
KEEP=0

UL_A=192.0.2.1
UL_B=192.0.2.2
IPERF_PORT=5201

log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
usage() { sed -n '2,/^set -E/{/^set -E/d; s/^# \{0,1\}//; p}' "$0"; }

is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }
is_num() { [[ $1 =~ ^[0-9]+([.][0-9]+)?$ ]]; }

while (( $# )); do
	case $1 in
		--duration) DURATION=${2:?--duration needs seconds}; shift 2 ;;
		--only) ONLY=${2:?--only needs a list}; shift 2 ;;
		--no-raw) RAW=0; shift ;;
		--out) OUT=${2:?--out needs a file}; shift 2 ;;
		--pings) PINGS=${2:?}; shift 2 ;;
		--ping-interval) PING_INTERVAL=${2:?}; shift 2 ;;
		--up-timeout) UP_TIMEOUT=${2:?}; shift 2 ;;
		--settle) SETTLE=${2:?}; shift 2 ;;
		--pin)
			if [[ ${2:-} =~ ^[0-9]+,[0-9]+$ ]]; then PIN=$2; shift 2; else PIN=0,1; shift; fi ;;
		--wg-mtu) WG_MTU=${2:?}; shift 2 ;;
		--nebula-mtu) NEBULA_MTU=${2:?}; shift 2 ;;
		--nebula-cipher) NEBULA_CIPHER=${2:?}; shift 2 ;;
		--ours-cmd) OURS_CMD=${2:?--ours-cmd needs a command}; shift 2 ;;
		--build) BUILD=1; shift ;;
		--keep) KEEP=1; shift ;;
		-h|--help) usage; exit 0 ;;
		*) usage >&2; die "unknown argument '$1'" ;;
	esac
done

is_uint "$DURATION" && (( DURATION > 0 )) || die "--duration must be a whole number of seconds > 0, got '$DURATION'"
is_uint "$PINGS" && (( PINGS > 0 )) || die "--pings must be a whole number > 0, got '$PINGS'"
is_num "$PING_INTERVAL" || die "--ping-interval must be seconds (e.g. 0.01), got '$PING_INTERVAL'"
is_uint "$UP_TIMEOUT" || die "--up-timeout must be whole seconds, got '$UP_TIMEOUT'"
is_num "$SETTLE" || die "--settle must be seconds, got '$SETTLE'"
is_uint "$WG_MTU" && is_uint "$NEBULA_MTU" || die "MTUs must be whole numbers"
[[ $NEBULA_CIPHER == aes || $NEBULA_CIPHER == chachapoly ]] || die "--nebula-cipher must be aes or chachapoly, got '$NEBULA_CIPHER'"
PIN_A=${PIN%,*} PIN_B=${PIN#*,}
[[ $OURS_CMD == *"{conf}"* ]] || die "--ours-cmd must contain {conf} (replaced by the wg-quick config path): '$OURS_CMD'"
[[ $OURS_CMD == *"{iface}"* ]] || die "--ours-cmd must contain {iface} (replaced by the interface name): '$OURS_CMD'"

ROWS=()
IFS=, read -ra _only <<<"$ONLY"
if (( RAW )) || [[ " ${_only[*]} " == *" raw "* ]]; then ROWS+=(raw); fi
for _t in ours wireguard-go nebula; do
	[[ " ${_only[*]} " == *" $_t "* ]] && ROWS+=("$_t")
done
for _t in "${_only[@]}"; do
	case $_t in ours|wireguard-go|nebula|raw) ;; *) die "--only: unknown tunnel '$_t' (known: ours, wireguard-go, nebula)" ;; esac
done
(( ${#ROWS[@]} )) || die "nothing to run (--only '$ONLY' with --no-raw)"
has_row() { [[ " ${ROWS[*]} " == *" $1 "* ]]; }

if [[ -n $OUT ]]; then
	mkdir -p "$(dirname "$OUT")"
	OUT="$(cd "$(dirname "$OUT")" && pwd)/$(basename "$OUT")"
fi
cd "$REPO"    # --ours-cmd and the default agent path are relative to the repository root

# --------------------------------------------------------------------------
# preflight
# --------------------------------------------------------------------------
(( EUID == 0 )) || die "must run as root (network namespaces, TUN devices): sudo $0 ..."

need_tools() {   # need_tools CMD:PACKAGE ... : one message listing every missing package
	local missing=() pkgs=() t
	for t in "$@"; do
		command -v "${t%%:*}" >/dev/null 2>&1 && continue
		missing+=("${t%%:*}")
		[[ " ${pkgs[*]} " == *" ${t#*:} "* ]] || pkgs+=("${t#*:}")
	done
	(( ${#missing[@]} == 0 )) ||
		die "missing command(s): ${missing[*]} - install with: apt-get install ${pkgs[*]}"
}
tools=(ip:iproute2 ss:iproute2 ping:iputils-ping iperf3:iperf3 python3:python3 timeout:coreutils getconf:libc-bin)
[[ -n $PIN ]] && tools+=(taskset:util-linux)
has_row wireguard-go && tools+=(wireguard-go:wireguard-go wg:wireguard-tools)
has_row nebula && tools+=(nebula:nebula nebula-cert:nebula)
has_row ours && tools+=(wg:wireguard-tools)
[[ $OURS_CMD == *wg-standin.sh* ]] && tools+=(wireguard-go:wireguard-go)
need_tools "${tools[@]}"
[[ -c /dev/net/tun ]] || die "/dev/net/tun is missing - load the module: modprobe tun"
ip netns list >/dev/null || die "'ip netns' does not work here (no network namespace support?)"
if [[ -n $PIN ]]; then
	(( PIN_A < $(nproc) && PIN_B < $(nproc) )) || die "--pin $PIN: this machine has CPUs 0..$(( $(nproc) - 1 ))"
fi

RID=$$
PFX="mb$RID-"
HZ=$(getconf CLK_TCK)
WORK=$(mktemp -d /tmp/mb-e2e.XXXXXX)
CHILD=

# --------------------------------------------------------------------------
# process and namespace helpers (used inside a row's subshell)
# --------------------------------------------------------------------------
alive() {        # a live, non-zombie process
	local st
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	st=${st##*) }
	[[ ${st:0:1} != Z ]]
}

stop_pid() {     # stop_pid PID [GRACE_S]: TERM, wait up to GRACE_S (5), then KILL
	local pid=$1 grace=${2:-5} i
	alive "$pid" || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < grace * 10; i++)); do
		alive "$pid" || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
}

del_netns() {    # stop whatever still runs inside NS (only we start processes there), delete it
	local ns=$1 pid
	for pid in $(ip netns pids "$ns" 2>/dev/null); do stop_pid "$pid" 2; done
	ip netns del "$ns" 2>/dev/null || true
}

nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

pincmd() {       # pincmd NS: sets PINCMD to the taskset prefix of that side
	PINCMD=()
	[[ -n $PIN ]] || return 0
	if [[ $1 == "$NS_A" ]]; then PINCMD=(taskset -c "$PIN_A"); else PINCMD=(taskset -c "$PIN_B"); fi
}

start_bg() {     # start_bg NS LOGFILE CMD...: LAST_PID = the command's own PID (ip netns exec and taskset exec)
	local ns=$1 logf=$2; shift 2
	pincmd "$ns"
	ip netns exec "$ns" "${PINCMD[@]}" "$@" >"$logf" 2>&1 </dev/null &
	LAST_PID=$!
	PIDS+=("$LAST_PID")
}

# run_fg CMD...: run a long command in the background and wait for it, so a TERM
# to this shell is acted on at once (bash defers traps while a foreground child
# runs) and the cleanup can stop it.
FG_PID=
run_fg() {
	local rc=0
	"$@" &
	FG_PID=$!
	wait "$FG_PID" || rc=$?
	FG_PID=
	return "$rc"
}

emit() { printf '%s=%s\n' "$1" "$2" >>"$RES"; }

row_die() {      # row_die REASON: mark the row failed and leave its subshell
	log "[$ROW] FAILED: $*"
	[[ -n ${ROW_FAILED:-} ]] || { ROW_FAILED=1; emit fail_reason "$*"; }
	exit 1
}

row_cleanup() {
	local rc=$? i ns f
	set +e
	trap - ERR
	[[ -n ${FG_PID:-} ]] && stop_pid "$FG_PID"
	for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${PIDS[i]}"; done
	for ns in "${NSS[@]}"; do del_netns "$ns"; done
	for f in "${SOCKS[@]}"; do rm -f -- "$f"; done
	exit "$rc"
}

wait_ping() {    # wait_ping NS DST TIMEOUT [PID...]: first reply within TIMEOUT s; gives up early if a PID dies (sets WAIT_WHY)
	local ns=$1 dst=$2 to=$3 t0=$SECONDS pid
	shift 3
	WAIT_WHY="no ping reply from $dst within $to s"
	while (( SECONDS - t0 < to )); do
		nsx "$ns" ping -n -c 1 -W 1 "$dst" >/dev/null 2>&1 && { log "[$ROW] $dst answers from $ns after $((SECONDS - t0)) s"; return 0; }
		for pid in "$@"; do
			alive "$pid" || { WAIT_WHY="daemon PID $pid exited before a ping from $ns to $dst got through"; return 1; }
		done
		sleep 0.5
	done
	return 1
}

wait_listen() {  # wait_listen NS PORT
	local i
	for ((i = 0; i < 50; i++)); do
		nsx "$1" ss -Hltn "sport = :$2" 2>/dev/null | grep -q . && return 0
		sleep 0.1
	done
	row_die "nothing listens on tcp/$2 in $1 (iperf3 server did not start)"
}

wait_sock() {    # wait_sock PATH: a wireguard-go UAPI socket
	local i
	for ((i = 0; i < 100; i++)); do [[ -S $1 ]] && return 0; sleep 0.05; done
	return 1
}

make_underlay() {
	NS_A="${PFX}$ROW-a" NS_B="${PFX}$ROW-b"
	ip netns add "$NS_A"; NSS+=("$NS_A")
	ip netns add "$NS_B"; NSS+=("$NS_B")
	ip -n "$NS_A" link add ul0 mtu 1500 type veth peer name ul0 mtu 1500 netns "$NS_B"
	local ns
	for ns in "$NS_A" "$NS_B"; do
		ip -n "$ns" link set lo up
		nsx "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	done
	ip -n "$NS_A" addr add "$UL_A/24" dev ul0
	ip -n "$NS_B" addr add "$UL_B/24" dev ul0
	ip -n "$NS_A" link set ul0 up
	ip -n "$NS_B" link set ul0 up
	wait_ping "$NS_A" "$UL_B" 10 || row_die "the veth underlay between $NS_A and $NS_B did not come up: $WAIT_WHY"
}

cpu_ticks() {    # utime+stime (fields 14, 15) of PID in clock ticks; comm may hold spaces
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
	s=${s##*) }
	set -- $s
	echo $(( ${12} + ${13} ))
}
rss_kb() { awk '$1 == "VmRSS:" {print $2}' "/proc/$1/status" 2>/dev/null || true; }
ticks_to_s() { awk -v t="$1" -v h="$HZ" 'BEGIN {printf "%.2f", t / h}'; }

# --------------------------------------------------------------------------
# tunnels: each sets DST (B's overlay address), DAEMONS (PID of A, PID of B),
# DAEMON (what runs), MTU, NOTE
# --------------------------------------------------------------------------
setup_raw() {
	DST=$UL_B DAEMONS=() DAEMON="-" MTU=1500 NOTE="veth, kernel offloads (TSO/GRO) on"
}

# write_wg_quick DIR NET PORT: DIR/a.conf and DIR/b.conf, wg-quick format,
# A = NET.1, B = NET.2, each the other's only peer
write_wg_quick() {
	local d=$1 net=$2 port=$3 s
	mkdir -p "$d"
	(
		umask 077
		for s in a b; do wg genkey >"$d/$s.key"; wg pubkey <"$d/$s.key" >"$d/$s.pub"; done
		printf '[Interface]\nPrivateKey = %s\nListenPort = %s\nAddress = %s.1/24\nMTU = %s\n\n[Peer]\nPublicKey = %s\nEndpoint = %s:%s\nAllowedIPs = %s.2/32\n' \
			"$(<"$d/a.key")" "$port" "$net" "$WG_MTU" "$(<"$d/b.pub")" "$UL_B" "$port" "$net" >"$d/a.conf"
		printf '[Interface]\nPrivateKey = %s\nListenPort = %s\nAddress = %s.2/24\nMTU = %s\n\n[Peer]\nPublicKey = %s\nEndpoint = %s:%s\nAllowedIPs = %s.1/32\n' \
			"$(<"$d/b.key")" "$port" "$net" "$WG_MTU" "$(<"$d/a.pub")" "$UL_A" "$port" "$net" >"$d/b.conf"
	)
}

setup_wireguard_go() {
	local d="$SDIR" ifa="mb${RID}wa" ifb="mb${RID}wb" pa pb
	write_wg_quick "$d" 100.64.1 51820
	SOCKS+=("/var/run/wireguard/$ifa.sock" "/var/run/wireguard/$ifb.sock")
	start_bg "$NS_A" "$d/a.log" wireguard-go -f "$ifa"; pa=$LAST_PID
	start_bg "$NS_B" "$d/b.log" wireguard-go -f "$ifb"; pb=$LAST_PID
	local s ns ifc
	for s in a b; do
		if [[ $s == a ]]; then ns=$NS_A ifc=$ifa; else ns=$NS_B ifc=$ifb; fi
		wait_sock "/var/run/wireguard/$ifc.sock" || { tail -n 20 "$d/$s.log" >&2; row_die "wireguard-go $ifc: no UAPI socket after 5 s"; }
		# wg setconf takes the wg-quick file minus the keys only wg-quick knows
		nsx "$ns" wg setconf "$ifc" <(grep -Eiv '^[[:space:]]*(Address|MTU)[[:space:]]*=' "$d/$s.conf")
		ip -n "$ns" addr add "100.64.1.$([[ $s == a ]] && echo 1 || echo 2)/24" dev "$ifc"
		ip -n "$ns" link set "$ifc" mtu "$WG_MTU" up
	done
	DST=100.64.1.2 DAEMONS=("$pa" "$pb") DAEMON="wireguard-go $(pkgver wireguard-go)" MTU=$WG_MTU
	NOTE="ChaCha20-Poly1305"
}

nebula_yml() {   # nebula_yml NAME AM_LIGHTHOUSE
	local n=$1 lh=$2 d="$SDIR" hosts='[]'
	[[ $lh == true ]] || hosts='["100.64.2.2"]'
	cat <<EOF
pki:
  ca: $d/ca.crt
  cert: $d/$n.crt
  key: $d/$n.key
static_host_map:
  "100.64.2.2": ["$UL_B:4242"]
lighthouse:
  am_lighthouse: $lh
  interval: 60
  hosts: $hosts
listen:
  host: 0.0.0.0
  port: 4242
punchy:
  punch: false
relay:
  am_relay: false
  use_relays: false
cipher: $NEBULA_CIPHER
tun:
  disabled: false
  dev: neb0
  drop_local_broadcast: false
  drop_multicast: false
  tx_queue: 500
  mtu: $NEBULA_MTU
logging:
  level: info
  format: text
firewall:
  outbound:
    - port: any
      proto: any
      host: any
  inbound:
    - port: any
      proto: any
      host: any
EOF
}

setup_nebula() {
	local d="$SDIR" s pa pb
	nebula-cert ca -name "mb-e2e-throwaway" -duration 2h -out-crt "$d/ca.crt" -out-key "$d/ca.key" >/dev/null
	nebula-cert sign -ca-crt "$d/ca.crt" -ca-key "$d/ca.key" -name a -ip 100.64.2.1/24 -out-crt "$d/a.crt" -out-key "$d/a.key" >/dev/null
	nebula-cert sign -ca-crt "$d/ca.crt" -ca-key "$d/ca.key" -name b -ip 100.64.2.2/24 -out-crt "$d/b.crt" -out-key "$d/b.key" >/dev/null
	nebula_yml a false >"$d/a.yml"
	nebula_yml b true >"$d/b.yml"
	for s in a b; do
		nebula -test -config "$d/$s.yml" >"$d/$s.test" 2>&1 || { cat "$d/$s.test" >&2; row_die "nebula rejected its config $d/$s.yml"; }
	done
	start_bg "$NS_B" "$d/b.log" nebula -config "$d/b.yml"; pb=$LAST_PID
	start_bg "$NS_A" "$d/a.log" nebula -config "$d/a.yml"; pa=$LAST_PID
	DST=100.64.2.2 DAEMONS=("$pa" "$pb") DAEMON="nebula $(pkgver nebula)" MTU=$NEBULA_MTU
	NOTE="cipher $NEBULA_CIPHER$([[ $NEBULA_CIPHER == aes ]] && echo ' (AES-256-GCM, default)')"
}

setup_ours() {
	local d="$SDIR" ifa="mb${RID}oa" ifb="mb${RID}ob" pa pb
	[[ ! -e $WORK/ours.build-failed ]] || row_die "no agent to run: building it failed (log above): dotnet build -c Release $AGENT_PROJ"
	write_wg_quick "$d" 100.64.3 51820
	SOCKS+=("/var/run/wireguard/$ifa.sock" "/var/run/wireguard/$ifb.sock")   # in case --ours-cmd runs wireguard-go
	local -a tmpl cmd
	read -ra tmpl <<<"$OURS_CMD"
	local s ns ifc w
	for s in a b; do
		if [[ $s == a ]]; then ns=$NS_A ifc=$ifa; else ns=$NS_B ifc=$ifb; fi
		cmd=()
		for w in "${tmpl[@]}"; do w=${w//\{conf\}/$d/$s.conf}; cmd+=("${w//\{iface\}/$ifc}"); done
		log "[$ROW] $s: ${cmd[*]}"
		start_bg "$ns" "$d/$s.log" "${cmd[@]}"
		if [[ $s == a ]]; then pa=$LAST_PID; else pb=$LAST_PID; fi
	done
	DST=100.64.3.2 DAEMONS=("$pa" "$pb") MTU=$WG_MTU
	if [[ $OURS_CMD == "$DEFAULT_OURS_CMD" ]]; then
		DAEMON="meshagent $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$REPO" diff --quiet HEAD 2>/dev/null || echo '+dirty')"
	else
		DAEMON="--ours-cmd ${tmpl[0]##*/}"
	fi
	NOTE="wg-quick config, ChaCha20-Poly1305"
}

ours_logs() {
	local s
	for s in a b; do
		log "[$ROW] ---- log of side $s ($SDIR/$s.log), last 60 lines ----"
		tail -n 60 "$SDIR/$s.log" >&2 2>/dev/null || true
	done
}

# --------------------------------------------------------------------------
# measurements
# --------------------------------------------------------------------------
snap_rss() {     # snap_rss idle|after
	(( ${#DAEMONS[@]} )) || return 0
	emit "rss_$1_a" "$(rss_kb "${DAEMONS[0]}")"
	emit "rss_$1_b" "$(rss_kb "${DAEMONS[1]}")"
}

measure_ping() {
	local out="$SDIR/ping.txt" deadline
	deadline=$(awk -v n="$PINGS" -v i="$PING_INTERVAL" 'BEGIN {printf "%d", n * i + 10.5}')
	pincmd "$NS_A"
	run_fg ip netns exec "$NS_A" "${PINCMD[@]}" ping -n -c "$PINGS" -i "$PING_INTERVAL" -w "$deadline" "$DST" >"$out" 2>&1 || true
	python3 "$REPORT_PY" ping "$out" >"$SDIR/ping.kv" || row_die "ping through the tunnel got no reply (see $out)"
	sed 's/^/ping_/' "$SDIR/ping.kv" >>"$RES"
	log "[$ROW] ping: $(tr '\n' ' ' <"$SDIR/ping.kv")"
}

measure_iperf() {  # measure_iperf STREAMS
	local n=$1 j="$SDIR/iperf-P$1.json" i
	local -a before=() after=()
	for i in "${!DAEMONS[@]}"; do before+=("$(cpu_ticks "${DAEMONS[i]}")"); done
	pincmd "$NS_A"
	run_fg timeout $((DURATION + 30)) ip netns exec "$NS_A" "${PINCMD[@]}" \
		iperf3 -c "$DST" -p "$IPERF_PORT" -t "$DURATION" -P "$n" --connect-timeout 5000 -J >"$j" 2>"$j.err" || true
	for i in "${!DAEMONS[@]}"; do after+=("$(cpu_ticks "${DAEMONS[i]}")"); done
	python3 "$REPORT_PY" iperf "$j" >"$j.kv" 2>"$j.why" || { cat "$j.err" >&2; row_die "iperf3 -P $n: $(head -c 300 "$j.why")"; }
	sed "s/^/s${n}_/" "$j.kv" >>"$RES"
	if (( ${#DAEMONS[@]} )); then
		emit "cpu_s${n}_a" "$(ticks_to_s $((after[0] - before[0])))"
		emit "cpu_s${n}_b" "$(ticks_to_s $((after[1] - before[1])))"
	fi
	log "[$ROW] iperf3 -P $n: $(tr '\n' ' ' <"$j.kv")"
}

run_row() {      # runs in its own subshell; writes $WORK/$ROW.res
	ROW=$1 RES="$WORK/$1.res" SDIR="$WORK/$1"
	PIDS=() NSS=() SOCKS=() DAEMONS=() ROW_FAILED=
	mkdir -p "$SDIR"
	: >"$RES"
	trap row_cleanup EXIT
	trap 'exit 143' TERM
	trap 'row_die "command failed (rc=$?) at run.sh line $LINENO: $BASH_COMMAND"' ERR
	log "[$ROW] setting up"
	make_underlay
	"setup_${ROW//-/_}"
	if ! wait_ping "$NS_A" "$DST" "$UP_TIMEOUT" "${DAEMONS[@]}"; then
		[[ $ROW == ours ]] && ours_logs
		row_die "tunnel not up: $WAIT_WHY"
	fi
	sleep "$SETTLE"
	local pid
	for pid in "${DAEMONS[@]}"; do alive "$pid" || row_die "tunnel daemon PID $pid died after the tunnel came up"; done
	emit daemon "$DAEMON"
	emit mtu "$MTU"
	emit note "$NOTE"
	snap_rss idle
	start_bg "$NS_B" "$SDIR/iperf3-server.log" iperf3 -s -p "$IPERF_PORT"
	wait_listen "$NS_B" "$IPERF_PORT"
	measure_ping
	sleep 1
	measure_iperf 1
	sleep 1
	measure_iperf 4
	snap_rss after
	for pid in "${DAEMONS[@]}"; do alive "$pid" || row_die "tunnel daemon PID $pid died during the measurements"; done
	emit status ok
}

# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------
pkgver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "?"; }

main_cleanup() {
	local rc=$? ns
	set +e
	trap - ERR
	[[ -n $CHILD ]] && stop_pid "$CHILD" 30
	# belt and braces, should the row subshell have been killed hard
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
		[[ $ns == "$PFX"* ]] && del_netns "$ns"
	done
	rm -f /var/run/wireguard/mb"$RID"[wo][ab].sock
	if (( KEEP )); then log "work directory kept: $WORK"; else rm -rf -- "$WORK"; fi
	exit "$rc"
}
trap main_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

T0=$SECONDS
STARTED=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
UPTIME0=$(uptime)
log "e2e bench: rows [${ROWS[*]}], iperf3 ${DURATION} s per run, work dir $WORK"
log "uptime: $UPTIME0"

if has_row ours && [[ $OURS_CMD == "$DEFAULT_OURS_CMD" ]]; then
	if ! command -v dotnet >/dev/null; then
		log "dotnet not found: the ours row needs the .NET 10 SDK"; : >"$WORK/ours.build-failed"
	elif [[ $BUILD == 1 || ! -e $AGENT_DLL ]]; then
		# only the executable's project: the bench needs nothing else, and a broken
		# test project must not keep the agent from being measured
		log "building the agent: dotnet build -c Release $AGENT_PROJ"
		if ! dotnet build -c Release "$AGENT_PROJ" -nologo -v q >"$WORK/build.log" 2>&1 || [[ ! -e $AGENT_DLL ]]; then
			tail -n 40 "$WORK/build.log" >&2
			: >"$WORK/ours.build-failed"
		fi
	fi
fi

for row in "${ROWS[@]}"; do
	( run_row "$row" ) &
	CHILD=$!
	wait "$CHILD" || true
	CHILD=
	grep -q '^status=ok' "$WORK/$row.res" 2>/dev/null || grep -q '^fail_reason=' "$WORK/$row.res" 2>/dev/null ||
		echo "fail_reason=the row ended without a result (see the log above)" >>"$WORK/$row.res"
	sleep 1
done

WALL=$((SECONDS - T0))
{
	echo "## End-to-end bench ($STARTED)"
	echo
	echo "- machine: $(nproc) CPUs ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo), kernel $(uname -r)"
	echo "- load: \`uptime\` at start: ${UPTIME0#*load average: }; at end: $(uptime | sed 's/.*load average: //') (other work on the same CPUs skews every row)"
	echo "- packages: wireguard-go $(pkgver wireguard-go), wireguard-tools $(pkgver wireguard-tools), nebula $(pkgver nebula), iperf3 $(pkgver iperf3)"
	echo "- settings: iperf3 TCP A->B ${DURATION} s per run (1 stream, then 4), receiver Gbit/s; ping ${PINGS} x ${PING_INTERVAL} s on the idle tunnel; MTU ours/wireguard-go ${WG_MTU}, nebula ${NEBULA_MTU}; underlay veth MTU 1500"
	if [[ -n $PIN ]]; then
		echo "- pinned: side A (daemon, iperf3 client, ping) on CPU $PIN_A, side B (daemon, iperf3 server) on CPU $PIN_B"
	else
		echo "- not pinned: both daemons, iperf3 client and server and the kernel share all $(nproc) CPUs"
	fi
	echo "- CPU-s: utime+stime of daemon A + daemon B during the iperf3 run; RSS: VmRSS of A + B, idle = tunnel up before any load, after = after both iperf3 runs"
	has_row ours && echo "- ours: \`${OURS_CMD}\`"
	echo "- wall time of this run: ${WALL} s"
} >"$WORK/meta.md"
python3 "$REPORT_PY" render "$WORK" "$WORK/meta.md" "${ROWS[@]}" >"$WORK/report.md"
if [[ -n $OUT ]]; then cp "$WORK/report.md" "$OUT"; log "report written to $OUT"; fi
printf '\n'; cat "$WORK/report.md"
log "done in ${WALL} s"
