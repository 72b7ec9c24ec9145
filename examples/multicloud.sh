#!/usr/bin/env bash
# An estate on the lab's two clouds, as plain file operations on a mount:
#   examples/multicloud.sh [MOUNTPOINT]          make and show
#   examples/multicloud.sh --clean [MOUNTPOINT]  remove what it made
# A tenant, a subnet at home on cloud1, vm1 on cloud1 and vm2 placed on
# cloud2: both take their addresses from the subnet's one dnsmasq (vm2
# across VXLAN) and reach each other. Every step is printed before it runs.
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
