#!/usr/bin/env bash
# The first steps with maasfs, as plain file operations on a mount:
#   examples/quickstart.sh [MOUNTPOINT]          make and show
#   examples/quickstart.sh --clean [MOUNTPOINT]  remove what it made
# A tenant, a subnet, a machine taking a DHCP lease, and two VMs (the tiny
# image) started, with their addresses and console lines. Every step is
# printed before it runs. Safe to run again.
set -euo pipefail

clean=0
if [ "${1:-}" = --clean ]; then
	clean=1
	shift
fi
M=${1:-/mnt/maas}
CLIENT=demo-client

run() {
	echo
	echo "\$ $*"
	"$@"
}

# A shell line with a redirection, printed as typed.
write() {
	echo
	echo "\$ echo $1 > $2"
	echo "$1" >"$2"
}

if [ "$clean" = 1 ]; then
	ip link del "${CLIENT}-v" 2>/dev/null || true
	ip netns del "$CLIENT" 2>/dev/null || true
	for vm in vm1 vm2; do
		if [ -d "$M/tenantA/vms/$vm" ]; then
			write stop "$M/tenantA/vms/$vm/state"
			run rmdir "$M/tenantA/vms/$vm"
		fi
	done
	if [ -d "$M/tenantA/subnets/web" ]; then
		run rmdir "$M/tenantA/subnets/web"
	fi
	if [ -d "$M/tenantA" ]; then
		run rmdir "$M/tenantA"
	fi
	exit 0
fi

grep -q " $M fuse.maasfs " /proc/mounts || {
	echo "quickstart: maasfs is not mounted on $M" >&2
	exit 1
}

# A tenant is a directory; its router namespace appears at once.
[ -d "$M/tenantA" ] || run mkdir "$M/tenantA"
run cat "$M/tenantA/status"
run ip netns list

# A subnet is one line written to subnets/new.
if [ ! -d "$M/tenantA/subnets/web" ]; then
	write "10.0.1.0/24 name=web" "$M/tenantA/subnets/new"
fi
run ls "$M/tenantA/subnets/web" "$M/tenantA/subnets/web/dhcp"
for f in cidr gateway vni bridge; do
	echo "$f: $(cat "$M/tenantA/subnets/web/$f")"
done
BRIDGE=$(cat "$M/tenantA/subnets/web/bridge")
run ip -n maas-tenantA -br addr show
run ip -br link show type bridge
run cat "$M/tenantA/subnets/web/dhcp/status"

# A machine on the subnet: a namespace joined to the bridge by a veth,
# asking for a lease with busybox udhcpc.
if ! ip netns list | grep -q "^$CLIENT\b"; then
	ip netns add "$CLIENT"
	ip link add "${CLIENT}-v" type veth peer name eth0 netns "$CLIENT"
	ip link set "${CLIENT}-v" master "$BRIDGE" up
	ip -n "$CLIENT" link set lo up
	ip -n "$CLIENT" link set eth0 up
fi
echo
echo "\$ ip netns exec $CLIENT busybox udhcpc -i eth0 -q ..."
out=$(ip netns exec "$CLIENT" busybox udhcpc -i eth0 -n -q -f -t 8 -T 1 -B \
	-O mtu -x hostname:client1 -s /bin/true 2>&1)
echo "$out"
ADDR=$(echo "$out" | sed -n 's/.*lease of \([0-9.]*\) obtained.*/\1/p')
run cat "$M/tenantA/subnets/web/dhcp/leases"

# The client takes its address and reaches the gateway in maas-tenantA.
ip -n "$CLIENT" addr flush dev eth0
run ip -n "$CLIENT" addr add "$ADDR/24" dev eth0
run ip netns exec "$CLIENT" busybox ping -c 1 -W 2 \
	"$(cat "$M/tenantA/subnets/web/gateway")"

# Two VMs on the subnet: mkdir defines them, writes set them up, "start"
# boots them (under TCG here: a few seconds).
for vm in vm1 vm2; do
	V=$M/tenantA/vms/$vm
	[ -d "$V" ] || run mkdir "$V"
	if [ "$(cat "$V/state")" = stopped ]; then
		write 128M "$V/memory"
		write tiny "$V/image"
		write start "$V/state"
	fi
done
for vm in vm1 vm2; do
	V=$M/tenantA/vms/$vm
	for i in $(seq 1 600); do
		grep -q "maas-tiny id=" "$V/console" && break
		sleep 0.1
	done
	echo
	echo "$vm: state $(cat "$V/state"), mac $(cat "$V/mac"), ip $(cat "$V/ip")"
	echo "$vm console: $(grep "maas-tiny id=" "$V/console" | tail -n1)"
done
run cat "$M/tenantA/subnets/web/dhcp/hosts"
run ip netns exec maas-tenantA busybox ping -c 1 -W 3 "$(cat "$M/tenantA/vms/vm2/ip")"
run virsh -c qemu:///system list
