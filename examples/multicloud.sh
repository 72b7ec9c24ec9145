#!/usr/bin/env bash
# An estate on the lab's two clouds, as plain file operations on a mount:
#   examples/multicloud.sh [MOUNTPOINT]          make and show
#   examples/multicloud.sh --clean [MOUNTPOINT]  remove what it made
# A tenant, a subnet at home on cloud1, vm1 on cloud1 and vm2 placed on
# cloud2: both take their addresses from the subnet's one dnsmasq (vm2
# across VXLAN) and reach each other. Then vm1 migrates live to cloud2 (the
# same guest, not rebooted), and the whole subnet follows: its gateway and
# dnsmasq, with its leases. Every step is printed before it runs.
set -euo pipefail
cd "$(dirname "$0")/.."

clean=0
if [ "${1:-}" = --clean ]; then
	clean=1
	shift
fi
M=${1:-/mnt/maas}
LAB=examples/lab/lab

run() {
	echo
	echo "\$ $*"
	"$@"
}

write() {
	echo
	echo "\$ echo $1 > $2"
	echo "$1" >"$2"
}

if [ "$clean" = 1 ]; then
	for vm in vm1 vm2; do
		if [ -d "$M/tenantA/vms/$vm" ]; then
			write stop "$M/tenantA/vms/$vm/state"
			run rmdir "$M/tenantA/vms/$vm"
		fi
	done
	[ -d "$M/tenantA/subnets/web" ] && run rmdir "$M/tenantA/subnets/web"
	[ -d "$M/tenantA" ] && run rmdir "$M/tenantA"
	exit 0
fi

grep -q " $M fuse.maasfs " /proc/mounts || {
	echo "multicloud: maasfs is not mounted on $M" >&2
	exit 1
}
run ls "$M/clouds"
for c in "$M"/clouds/*; do
	echo "${c##*/}: $(cat "$c/status"), vtep $(cat "$c/vtep")"
done

[ -d "$M/tenantA" ] || run mkdir "$M/tenantA"
[ -d "$M/tenantA/subnets/web" ] ||
	write "10.0.1.0/24 name=web cloud=cloud1" "$M/tenantA/subnets/new"
for vm in vm1 vm2; do
	V=$M/tenantA/vms/$vm
	[ -d "$V" ] || run mkdir "$V"
done
# vm2 has never run: writing its location places it on cloud2.
[ "$(cat "$M/tenantA/vms/vm2/location")" = cloud2 ] ||
	write cloud2 "$M/tenantA/vms/vm2/location"
for vm in vm1 vm2; do
	V=$M/tenantA/vms/$vm
	if [ "$(cat "$V/state")" = stopped ]; then
		write 128M "$V/memory"
		write start "$V/state"
	fi
done
run cat "$M/tenantA/subnets/web/clouds"
for vm in vm1 vm2; do
	V=$M/tenantA/vms/$vm
	for i in $(seq 1 900); do
		grep -q "maas-tiny id=" "$V/console" && break
		sleep 0.1
	done
	echo
	echo "$vm: $(cat "$V/state") on $(cat "$V/location"), mac $(cat "$V/mac"), ip $(cat "$V/ip")"
	echo "$vm console: $(grep "maas-tiny id=" "$V/console" | tail -n1)"
done
VNI=$(cat "$M/tenantA/subnets/web/vni")
run cat "$M/tenantA/subnets/web/dhcp/leases"
run $LAB exec cloud1 bridge fdb show dev "maasx$VNI"
run $LAB exec cloud2 bridge fdb show dev "maasx$VNI"
run $LAB exec cloud2 virsh -c qemu:///system list
# The guests' control port: vm2 (cloud2) pings vm1 (cloud1) over VXLAN.
echo
echo "\$ echo 'ping $(cat "$M/tenantA/vms/vm1/ip")' | nc vm2:7777   (from maas-tenantA on cloud1)"
echo "ping $(cat "$M/tenantA/vms/vm1/ip")" |
	$LAB exec cloud1 ip netns exec maas-tenantA busybox nc -w 5 \
		"$(cat "$M/tenantA/vms/vm2/ip")" 7777

# The guest's identity from its control port, asked from the tenant's
# namespace on the subnet's home cloud.
ident() {
	echo id | $LAB exec "$(cat "$M/tenantA/subnets/web/cloud")" ip netns exec \
		maas-tenantA busybox nc -w 5 "$(cat "$M/tenantA/vms/$1/ip")" 7777
}

# Live migration: vm1 goes to cloud2 while it runs.
V=$M/tenantA/vms/vm1
echo
echo "vm1 before: $(ident vm1) on $(cat "$V/location")"
if [ "$(cat "$V/location")" = cloud1 ]; then
	write cloud2 "$V/location"
	run cat "$V/migration"
fi
echo
echo "vm1 after:  $(ident vm1) on $(cat "$V/location")   (same id, same boot count)"
run $LAB exec cloud2 virsh -c qemu:///system list

# The subnet follows: gateway and DHCP move to cloud2 with their leases.
if [ "$(cat "$M/tenantA/subnets/web/cloud")" = cloud1 ]; then
	write cloud2 "$M/tenantA/subnets/web/cloud"
fi
run cat "$M/tenantA/subnets/web/status"
run cat "$M/tenantA/subnets/web/clouds"
run $LAB exec cloud2 ip -n maas-tenantA -br addr
echo
echo "\$ ip -br link on cloud1 (nothing of the subnet is left there)"
$LAB exec cloud1 ip -br link | grep maas || echo "(no maas links)"
for vm in vm1 vm2; do
	echo "$vm: $(cat "$M/tenantA/vms/$vm/state") on $(cat "$M/tenantA/vms/$vm/location"), ip $(cat "$M/tenantA/vms/$vm/ip"): $(ident $vm)"
done
