#!/usr/bin/env bash
# ip-subnets.sh N PREFIX [--dhcp] [--tenants]: the script way (DESIGN §9).
# ip-subnets.sh --clean PREFIX: removes whatever is left with that prefix.
#
# The objects maasfs makes for N subnets on the local cloud, made the way
# the original project did: a shell script running one `ip` command per
# step, as a naive provisioning script would (no `ip -batch`, no folding of
# several attributes into one command). Per subnet i:
#
#   ip link add PREFIXb<i> type bridge          the subnet's bridge
#   ip link set PREFIXb<i> mtu 1450
#   ip link set PREFIXb<i> addrgenmode none     (host: no IPv6 on a segment)
#   ip link set PREFIXb<i> up
#   ip link add PREFIXh<i> type veth peer name PREFIXg<i> netns NS
#   ip link set PREFIXh<i> mtu 1450
#   ip link set PREFIXh<i> master PREFIXb<i>
#   ip link set PREFIXh<i> addrgenmode none
#   ip link set PREFIXh<i> up
#   ip -n NS link set PREFIXg<i> mtu 1450       the gateway end
#   ip -n NS link set PREFIXg<i> address 0a:58:fe:00:xx:xx
#   ip -n NS addr add 10.250.x.1/24 dev PREFIXg<i>
#   ip -n NS link set PREFIXg<i> up
#   ip netns exec NS sysctl -qw net.ipv4.conf.PREFIXg<i>.forwarding=1
#
# The veth's gateway end is created directly in the namespace (`peer ...
# netns NS`) rather than created in the host and moved, which would cost
# an RCU grace period per subnet: the script is naive in its process count,
# not in the kernel work it asks for.
#
# With --dhcp, per subnet also: dnsmasq started in NS with the argv maasfs
# gives it (backend/host/dnsmasq.c: DHCP and DNS on, --bind-interfaces,
# --except-interface=lo, --no-ping, ...; its files under a temp dir), and
# then one DHCP exchange (DISCOVER, OFFER, REQUEST, ACK) through the
# subnet's bridge by the probe bench/run uses for maasfs too: $DHCPPROBE
# (bench/dhcpprobe.c, built by bench/run), one process for the whole run,
# on a veth pair made before the clock starts; the subnet counts as made
# when the client got its ACK.
#
# Tenants: by default the N subnets share ONE tenant namespace, PREFIX-t0,
# made (ip netns add; lo up) before the create clock starts and removed
# after the delete clock stops, the case bench/run times for maasfs. With
# --tenants each subnet gets its own namespace PREFIX-t<i>, made and
# removed inside the clocks. Deleting a subnet: dnsmasq stopped (SIGTERM
# to the pid in its pid file, wait until it has gone), `ip link del` of
# the veth (its peer goes with it) and of the bridge.
#
# Addresses: 10.250.i.0/24 (N <= 256), else /28 blocks of 10.250.0.0/16
# (N <= 4096), only inside our namespaces: no route enters the host.
#
# Prints one line: create_ms=X delete_ms=Y. As root. Everything it makes
# starts with PREFIX (namespaces PREFIX-..., links PREFIX...); it removes
# all of it, also when it fails. Do not run two with the same PREFIX at
# once, nor --clean PREFIX while one runs.
set -uo pipefail

MTU=1450
DNSMASQ=${DNSMASQ:-/usr/sbin/dnsmasq}

die() { echo "ip-subnets: $*" >&2; exit 1; }

usage() {
	echo "usage: ip-subnets.sh N PREFIX [--dhcp] [--tenants]" >&2
	echo "       ip-subnets.sh --clean PREFIX" >&2
	exit 2
}

# A prefix that cannot be the start of anyone else's link or namespace
# names (the same rule as floor.c).
prefix_ok() {
	[[ $1 =~ ^[a-z][a-z0-9]{2,7}$ ]] || return 1
	local t
	for t in maas lab eth en wl br vir veth docker lo tap tun vx bond \
		team lxc cni cali flannel kube ovs gre sit ip6 dummy wg; do
		[[ $1 == "$t"* ]] && return 1
	done
	return 0
}

tmproot() { echo "${TMPDIR:-/tmp}"; }

# Stops the dnsmasq whose pid file is $1, if that process is still the
# dnsmasq that wrote it (its command line names this pid file), and waits
# until it has gone (a zombie counts as gone: our init may not reap).
stop_dnsmasq() {
	local f=$1 pid st
	[ -s "$f" ] || return 0
	read -r pid <"$f" || return 0
	[[ $pid =~ ^[0-9]+$ ]] && [ "$pid" -gt 1 ] || return 0
	{ tr '\0' '\n' <"/proc/$pid/cmdline"; } 2>/dev/null |
		grep -qxF -- "--pid-file=$f" || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((st = 0; st < 600; st++)); do
		[ -r "/proc/$pid/stat" ] || return 0
		[[ $(<"/proc/$pid/stat") =~ ^[0-9]+\ \(.*\)\ Z ]] && return 0
		sleep 0.005
	done
	echo "ip-subnets: dnsmasq $pid ignores SIGTERM" >&2
	return 1
}

# --clean PREFIX: dnsmasq of our temp dirs (by pid file only), then host
# links and namespaces whose names start with PREFIX.
clean() {
	local p=$1 d f l ns pid count=0
	for d in "$(tmproot)/$p"-ip-subnets.*; do
		[ -d "$d" ] || continue
		for f in "$d"/*.pid; do
			[ -f "$f" ] || continue
			stop_dnsmasq "$f"
		done
		rm -rf -- "$d"
		count=$((count + 1))
	done
	# veths first (their peers go with them), then the rest
	for l in $(ip -o link show type veth | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }'); do
		[[ $l == "$p"* ]] || continue
		ip link del "$l" 2>/dev/null && count=$((count + 1))
	done
	for l in $(ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }'); do
		[[ $l == "$p"* ]] || continue
		ip link del "$l" 2>/dev/null && count=$((count + 1))
	done
	for ns in $(ip netns list | awk '{ print $1 }'); do
		[[ $ns == "$p"* ]] || continue
		ip netns del "$ns" && count=$((count + 1))
	done
	echo "cleaned=$count"
}

if [ "${1:-}" = --clean ]; then
	[ $# = 2 ] || usage
	prefix_ok "$2" || die "bad prefix '$2'"
	[ "$(id -u)" = 0 ] || die "run as root"
	clean "$2"
	exit 0
fi

[ $# -ge 2 ] || usage
N=$1
P=$2
shift 2
DHCP=0
TENANTS=0
for a in "$@"; do
	case $a in
	--dhcp) DHCP=1 ;;
	--tenants) TENANTS=1 ;;
	*) usage ;;
	esac
done
{ [[ $N =~ ^[0-9]+$ ]] && [ "$N" -ge 1 ] && [ "$N" -le 4096 ]; } || die "N must be 1..4096"
prefix_ok "$P" || die "PREFIX must be 3-8 of [a-z0-9], start with a letter, and not look like a system link name"
[ "$(id -u)" = 0 ] || die "run as root"
if [ "$DHCP" = 1 ]; then
	[ -x "$DNSMASQ" ] || die "no $DNSMASQ"
	[ -x "${DHCPPROBE:-}" ] ||
		die "--dhcp needs DHCPPROBE=path of bench/dhcpprobe (bench/run builds it)"
fi
ip netns list | awk '{ print $1 }' | grep -q "^$P-" &&
	die "namespaces $P-* exist: ip-subnets.sh --clean $P"
ip -o link show | awk -F': ' '{ print $2 }' | grep -q "^$P" &&
	die "links $P* exist: ip-subnets.sh --clean $P"

D=$(mktemp -d "$(tmproot)/$P-ip-subnets.XXXXXX") || die "mktemp"
chmod 711 "$D"     # dnsmasq drops to nobody
DONE=0

# Only what this run made; runs whether it succeeded or not.
cleanup() {
	local i f
	for f in "$D"/*.pid; do
		[ -f "$f" ] && stop_dnsmasq "$f"
	done
	[ -n "${PROBER_PID:-}" ] && exec {PROBE_IN}>&- && wait "$PROBER_PID"
	ip link del "${P}c" 2>/dev/null
	if [ "$DONE" = 0 ]; then
		for ((i = 0; i < N; i++)); do
			ip link del "${P}h$i" 2>/dev/null
			ip link del "${P}b$i" 2>/dev/null
			[ -e "/run/netns/$P-t$i" ] && ip netns del "$P-t$i"
		done
	fi
	[ -e "/run/netns/$P-t0" ] && ip netns del "$P-t0"
	rm -rf -- "$D"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Microseconds now, without a fork.
now_us() { local t=$EPOCHREALTIME; echo "${t/./}"; }

ip4() { echo "$(($1 >> 24 & 255)).$(($1 >> 16 & 255)).$(($1 >> 8 & 255)).$(($1 & 255))"; }

if [ "$N" -le 256 ]; then PFX=24; else PFX=28; fi
BASE=$((0x0afa0000))     # 10.250.0.0
MASK=$(ip4 $(((0xffffffff << (32 - PFX)) & 0xffffffff)))

fail() { echo "ip-subnets: subnet $1: $2 failed" >&2; exit 1; }

# The probe of bench/run, with our names: the veth pair ${P}c (onto each
# bridge in turn) and ${P}d (the client's end), and dhcpprobe on them.
probe_setup() {
	ip link add "${P}c" type veth peer name "${P}d" || return 1
	sysctl -qw "net.ipv6.conf.${P}c.disable_ipv6=1" \
		"net.ipv6.conf.${P}d.disable_ipv6=1" || return 1
	ip link set "${P}c" up && ip link set "${P}d" up || return 1
	coproc PROBE { "$DHCPPROBE" "${P}c" "${P}d"; }
	PROBER_PID=$PROBE_PID   # bash unsets PROBE_PID when it ends
	PROBE_IN=${PROBE[1]} PROBE_OUT=${PROBE[0]}   # closed by number
}

dhcp_probe() {
	local ans
	echo "$1" >&"$PROBE_IN" && read -r ans <&"$PROBE_OUT" && [[ $ans == ok* ]]
}

tenant_add() {
	ip netns add "$1" || return 1
	ip -n "$1" link set lo up || return 1
}

subnet_add() {
	local i=$1 ns=$2 b=${P}b$1 h=${P}h$1 g=${P}g$1 net gw mac
	if [ "$PFX" = 24 ]; then net=$((BASE | i << 8)); else net=$((BASE | i << 4)); fi
	gw=$(ip4 $((net + 1)))
	mac=$(printf '0a:58:fe:00:%02x:%02x' $((i >> 8 & 255)) $((i & 255)))

	ip link add "$b" type bridge || fail "$i" "bridge"
	ip link set "$b" mtu $MTU || fail "$i" "bridge mtu"
	ip link set "$b" addrgenmode none || fail "$i" "bridge addrgenmode"
	ip link set "$b" up || fail "$i" "bridge up"
	ip link add "$h" type veth peer name "$g" netns "$ns" || fail "$i" "veth"
	ip link set "$h" mtu $MTU || fail "$i" "veth mtu"
	ip link set "$h" master "$b" || fail "$i" "veth master"
	ip link set "$h" addrgenmode none || fail "$i" "veth addrgenmode"
	ip link set "$h" up || fail "$i" "veth up"
	ip -n "$ns" link set "$g" mtu $MTU || fail "$i" "gateway mtu"
	ip -n "$ns" link set "$g" address "$mac" || fail "$i" "gateway mac"
	ip -n "$ns" addr add "$gw/$PFX" dev "$g" || fail "$i" "gateway address"
	ip -n "$ns" link set "$g" up || fail "$i" "gateway up"
	ip netns exec "$ns" sysctl -qw "net.ipv4.conf.$g.forwarding=1" ||
		fail "$i" "forwarding"

	[ "$DHCP" = 1 ] || return 0
	local first last pool dom=$P.maas
	if [ "$PFX" = 24 ]; then
		first=$((net + 10)) last=$((net + 250))
	else
		first=$((net + 2)) last=$((net + 14))
	fi
	pool=$((last - first + 1))
	: >"$D/$i.hosts"
	: >"$D/$i.dns"
	ip netns exec "$ns" "$DNSMASQ" --conf-file=/dev/null \
		--pid-file="$D/$i.pid" --dhcp-leasefile="$D/$i.leases" \
		--dhcp-hostsfile="$D/$i.hosts" --addn-hosts="$D/$i.dns" \
		--log-facility="$D/$i.log" --interface="$g" \
		--except-interface=lo --bind-interfaces --no-resolv --no-hosts \
		--dhcp-authoritative --no-ping \
		--dhcp-range="$(ip4 $first),$(ip4 $last),$MASK,12h" \
		--dhcp-lease-max=$pool \
		--dhcp-option=option:router,"$gw" \
		--dhcp-option=option:dns-server,"$gw" \
		--dhcp-option=option:mtu,$MTU \
		--domain="$dom" --local="/$dom/" --domain-needed ||
		fail "$i" "dnsmasq"
	dhcp_probe "$b" || fail "$i" "DHCP probe (no answer)"
}

subnet_del() {
	local i=$1
	if [ "$DHCP" = 1 ]; then
		stop_dnsmasq "$D/$i.pid" || return 1
	fi
	ip link del "${P}h$i" || return 1
	ip link del "${P}b$i" || return 1
}

[ "$TENANTS" = 1 ] || tenant_add "$P-t0" || die "tenant namespace"
if [ "$DHCP" = 1 ]; then
	probe_setup || die "probe client"
fi

t0=$(now_us)
for ((i = 0; i < N; i++)); do
	if [ "$TENANTS" = 1 ]; then
		ns=$P-t$i
		tenant_add "$ns" || fail "$i" "tenant namespace"
	else
		ns=$P-t0
	fi
	subnet_add "$i" "$ns"
done
t1=$(now_us)
for ((i = 0; i < N; i++)); do
	subnet_del "$i" || fail "$i" "delete"
	if [ "$TENANTS" = 1 ]; then
		ip netns del "$P-t$i" || fail "$i" "tenant delete"
	fi
done
t2=$(now_us)
DONE=1

awk -v a="$t0" -v b="$t1" -v c="$t2" \
	'BEGIN { printf "create_ms=%.1f delete_ms=%.1f\n", (b - a) / 1000, (c - b) / 1000 }'
