#!/usr/bin/env bash
# Floating addresses (issue 18), on the lab with real guests: an address
# of the provider pool, 1:1 NAT to a VM's fixed address on its subnet's
# home cloud, so the outside host reaches the guest's control port by it.
# Two tenants with the same CIDR and the same fixed address each get
# their own; reassignment, a restart, release; bad input. (Their default
# security group lets the control port in from anywhere.)
. "$(dirname "$0")/lib.sh"

A=${T}a
B=${T}b

# guest TENANT VM: a running guest on subnet web (home cloud1) of TENANT.
guest() {
	local V=$MNT/$1/vms/$2
	mkdir "$V" && echo 128M >"$V/memory" && echo start >"$V/state" &&
	wait_console 90 "$V/console" "maas-tiny id=.* ip=$(cat "$V/ip")"
}

# gid TENANT VM: the guest's id, asked from inside the tenant (its
# subnet's home).
gid() {
	lab_ctl "$(cat "$MNT/$1/subnets/web/cloud")" "$1" \
		"$(cat "$MNT/$1/vms/$2/ip")" id
}

# from_outside ADDRESS: the id of the guest the outside host reaches there.
from_outside() {
	echo id | oncloud outside timeout 15 busybox nc -w 5 "$1" 7777
}

floats() {
	ls "$MNT/$1/floating" | tr '\n' ' '
}

test_expect_success 'lab, mount; tenants a and b: subnet 10.0.1.0/24 on cloud1, a guest, external on' '
	lab_up 2 &&
	maas_mount -o "config=$LAB_CONFIG" &&
	wait_for 15 file_is "$MNT/clouds/cloud1/status" up &&
	for t in $A $B; do
		mkdir "$MNT/$t" &&
		echo "10.0.1.0/24 name=web cloud=cloud1" >"$MNT/$t/subnets/new" &&
		guest $t vm1 && echo on >"$MNT/$t/external" &&
		printf "in any group default\nout any\nin tcp 7777 from 0.0.0.0/0\n" \
			>"$MNT/$t/secgroups/default/rules" || exit 1
	done &&
	expect_eq "$(cat "$MNT/$A/vms/vm1/ip")" "$(cat "$MNT/$B/vms/vm1/ip")" &&
	expect_eq "new " "$(ls "$MNT/$A/floating" | tr "\n" " ")" &&
	test -n "$(gid $A vm1)" && test "$(gid $A vm1)" != "$(gid $B vm1)"
'

test_expect_success 'floating/new vm1: the first free address of the pool; the outside reaches a'"'"'s guest by it' '
	echo vm1 >"$MNT/$A/floating/new" &&
	expect_eq "198.51.100.102 new " "$(floats $A)" &&
	expect_eq vm1 "$(cat "$MNT/$A/floating/198.51.100.102/vm")" &&
	expect_eq cloud1 "$(cat "$MNT/$A/floating/198.51.100.102/cloud")" &&
	oncloud cloud1 ip -n "maas-$A" -o -4 addr show dev maasu | grep -q " 198.51.100.102/32 " &&
	grep -q "floating: 198.51.100.102=vm1" "$STATE/state.yaml" &&
	expect_eq "$(gid $A vm1)" "$(from_outside 198.51.100.102)"
'

test_expect_success 'b, same CIDR and fixed address, asks for 198.51.100.150: the outside reaches b'"'"'s guest there, a'"'"'s still at .102' '
	echo "vm1 198.51.100.150" >"$MNT/$B/floating/new" &&
	expect_eq "198.51.100.150 new " "$(floats $B)" &&
	expect_eq "$(gid $B vm1)" "$(from_outside 198.51.100.150)" &&
	expect_eq "$(gid $A vm1)" "$(from_outside 198.51.100.102)"
'

test_expect_success 'bad input: errno, a reason, nothing changes' '
	mkdir "$MNT/$A/vms/vm2" &&
	cp "$STATE/state.yaml" "$TMP/before" &&
	expect_errno ENOENT write "$MNT/$A/floating/new" nosuchvm &&
	grep -q "no VM nosuchvm" "$MNT/$A/status" &&
	expect_errno EINVAL write "$MNT/$A/floating/new" "vm2 198.51.100.50" &&
	grep -q "is not in the pool 198.51.100.100-198.51.100.199" "$MNT/$A/status" &&
	expect_errno EADDRINUSE write "$MNT/$A/floating/new" "vm2 198.51.100.150" &&
	expect_errno EADDRINUSE write "$MNT/$A/floating/new" "vm2 198.51.100.100" &&
	expect_errno EEXIST write "$MNT/$A/floating/new" "vm1" &&
	expect_errno EINVAL write "$MNT/$A/floating/new" "vm2 10.0.1.x" &&
	expect_errno EINVAL write "$MNT/$A/floating/new" "vm2 1.2.3.4 more" &&
	expect_errno EINVAL write "$MNT/$A/floating/new" "../x" &&
	expect_errno EPERM mkdir "$MNT/$A/floating/198.51.100.160" &&
	expect_errno ENOENT rmdir "$MNT/$A/floating/198.51.100.161" &&
	expect_errno ENOENT write "$MNT/$B/floating/198.51.100.150/vm" nosuch &&
	cmp "$TMP/before" "$STATE/state.yaml" &&
	expect_eq "198.51.100.102 new " "$(floats $A)" &&
	expect_errno EBUSY write "$MNT/$A/external" off &&
	expect_eq on "$(cat "$MNT/$A/external")" &&
	grep -q "has floating addresses" "$MNT/$A/status" &&
	cmp "$TMP/before" "$STATE/state.yaml"
'

test_expect_success 'a VM with a floating address is not removed: EBUSY' '
	echo vm2 >"$MNT/$A/floating/new" &&
	floats $A | grep -q " 198.51.100.103 " &&
	expect_errno EBUSY rmdir "$MNT/$A/vms/vm2" &&
	grep -q "floating address 198.51.100.103 points at VM vm2" "$MNT/$A/vms/vm2/status" &&
	rmdir "$MNT/$A/floating/198.51.100.103" &&
	rmdir "$MNT/$A/vms/vm2"
'

test_expect_success 'reassigned to another guest: the outside reaches that one at once' '
	guest $A vm3 &&
	echo vm3 >"$MNT/$A/floating/198.51.100.102/vm" &&
	expect_eq vm3 "$(cat "$MNT/$A/floating/198.51.100.102/vm")" &&
	expect_eq "$(gid $A vm3)" "$(from_outside 198.51.100.102)"
'

test_expect_success 'a restart keeps the floating addresses and their NAT' '
	maas_umount && maas_mount -o "config=$LAB_CONFIG" &&
	expect_eq "198.51.100.102 new " "$(floats $A)" &&
	expect_eq vm3 "$(cat "$MNT/$A/floating/198.51.100.102/vm")" &&
	expect_eq "$(gid $A vm3)" "$(from_outside 198.51.100.102)" &&
	expect_eq "$(gid $B vm1)" "$(from_outside 198.51.100.150)"
'

test_expect_success 'a migration of the subnet to cloud2 carries the floating address: the outside reaches the same guest there' '
	echo cloud2 >"$MNT/$A/subnets/web/cloud" &&
	expect_eq cloud2 "$(cat "$MNT/$A/subnets/web/cloud")" &&
	grep -q "^uplink: 198.51.100.[0-9]* on cloud2$" "$MNT/$A/status" &&
	! grep -q "^uplink: .* on cloud1$" "$MNT/$A/status" &&
	expect_eq cloud2 "$(cat "$MNT/$A/floating/198.51.100.102/cloud")" &&
	oncloud cloud2 ip -n "maas-$A" -o -4 addr show dev maasu | grep -q " 198.51.100.102/32 " &&
	expect_eq "$(gid $A vm3)" "$(from_outside 198.51.100.102)" &&
	expect_eq "$(gid $B vm1)" "$(from_outside 198.51.100.150)"
'

test_expect_success 'rmdir releases it: its address leaves the uplink, the outside reaches nothing there' '
	rmdir "$MNT/$A/floating/198.51.100.102" &&
	expect_eq "new " "$(floats $A)" &&
	! oncloud cloud1 ip -n "maas-$A" -o -4 addr show dev maasu | grep -q " 198.51.100.102/32 " &&
	! grep -q "floating: 198.51.100.102" "$STATE/state.yaml" &&
	test -z "$(from_outside 198.51.100.102)" &&
	expect_eq "$(gid $B vm1)" "$(from_outside 198.51.100.150)"
'

test_expect_success 'everything removed; nothing left' '
	rmdir "$MNT/$B/floating/198.51.100.150" &&
	for v in $A/vm1 $A/vm3 $B/vm1; do
		echo stop >"$MNT/${v%/*}/vms/${v#*/}/state" &&
		rmdir "$MNT/${v%/*}/vms/${v#*/}" || exit 1
	done &&
	rmdir "$MNT/$A/subnets/web" "$MNT/$B/subnets/web" "$MNT/$A" "$MNT/$B" &&
	lab_clean cloud1 && lab_clean cloud2 &&
	maas_umount &&
	lab down
'

test_done
