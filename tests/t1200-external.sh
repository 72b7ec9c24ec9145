#!/usr/bin/env bash
# Tenants reach the outside (issue 18), on the lab with real guests:
# <tenant>/external on makes an uplink on the subnet's home cloud (a veth
# into the provider bridge, an address from the pool, a default route to
# the provider's router, SNAT to the address through nftables); the guest
# then reaches the lab's outside host, whose router has no route back to
# any tenant CIDR: only SNAT gets the answer home. Two tenants with the
# same CIDR each get their own address. Bad input, a restart, off.
. "$(dirname "$0")/lib.sh"

A=${T}a
B=${T}b
C=${T}c
OUTSIDE=203.0.113.10

# guest TENANT VM: a running guest on subnet web (home cloud1) of TENANT.
guest() {
	local V=$MNT/$1/vms/$2
	mkdir "$V" && echo 128M >"$V/memory" && echo start >"$V/state" &&
	wait_console 90 "$V/console" "maas-tiny id=.* ip=$(cat "$V/ip")"
}

# out TENANT VM: the guest's ping of the outside host ("ok" or "fail").
out() {
	lab_ctl cloud1 "$1" "$(cat "$MNT/$1/vms/$2/ip")" "ping $OUTSIDE"
}

test_expect_success 'lab, mount; tenants a and b, each a subnet 10.0.1.0/24 on cloud1 and a guest' '
	lab_up 2 &&
	maas_mount -o "config=$LAB_CONFIG" &&
	wait_for 15 file_is "$MNT/clouds/cloud1/status" up &&
	for t in $A $B; do
		mkdir "$MNT/$t" &&
		echo "10.0.1.0/24 name=web cloud=cloud1" >"$MNT/$t/subnets/new" ||
			exit 1
	done &&
	guest $A vm1 && guest $B vm1 &&
	expect_eq off "$(cat "$MNT/$A/external")" &&
	expect_eq fail "$(out $A vm1)"
'

test_expect_success 'external on: an uplink with the pool'"'"'s first address; the guest reaches the outside' '
	id=$(cat "$MNT/$A/id") &&
	echo on >"$MNT/$A/external" &&
	expect_eq on "$(cat "$MNT/$A/external")" &&
	grep -qx "uplink: 198.51.100.100 on cloud1" "$MNT/$A/status" &&
	oncloud cloud1 ip -n "maas-$A" -o -4 addr show dev maasu | grep -q " 198.51.100.100/24 " &&
	oncloud cloud1 ip -n "maas-$A" route show default | grep -q "via 198.51.100.1 dev maasu" &&
	oncloud cloud1 ip -o link show "maasu$id" | grep -q " master brext " &&
	grep -q "external: cloud1=198.51.100.100" "$STATE/state.yaml" &&
	expect_eq ok "$(out $A vm1)" &&
	expect_eq fail "$(out $B vm1)"
'

test_expect_success 'the same CIDR in tenant b: the next address, and both reach out' '
	echo on >"$MNT/$B/external" &&
	grep -qx "uplink: 198.51.100.101 on cloud1" "$MNT/$B/status" &&
	expect_eq ok "$(out $B vm1)" &&
	expect_eq ok "$(out $A vm1)"
'

test_expect_success 'a subnet of a on cloud2 brings an uplink there (the next address of the shared network); its removal takes it away' '
	id=$(cat "$MNT/$A/id") &&
	echo "10.0.2.0/24 name=db cloud=cloud2" >"$MNT/$A/subnets/new" &&
	grep -qx "uplink: 198.51.100.102 on cloud2" "$MNT/$A/status" &&
	grep -qx "uplink: 198.51.100.100 on cloud1" "$MNT/$A/status" &&
	oncloud cloud2 ip -n "maas-$A" -o -4 addr show dev maasu | grep -q " 198.51.100.102/24 " &&
	oncloud cloud2 ip -o link show "maasu$id" | grep -q " master brext " &&
	rmdir "$MNT/$A/subnets/db" &&
	! grep -q "on cloud2$" "$MNT/$A/status" &&
	! oncloud cloud2 ip link show "maasu$id" 2>/dev/null &&
	expect_eq ok "$(out $A vm1)"
'

test_expect_success 'spec.yaml carries external both ways: shown, off and on again by a document; a bad value changes nothing' '
	id=$(cat "$MNT/$A/id") &&
	grep -qx "    external: on" "$MNT/$A/spec.yaml" &&
	grep -qx "    external: on" "$MNT/spec.yaml" &&
	sed "s/^    external: on$/    external: off/" "$MNT/$A/spec.yaml" >"$TMP/off.yaml" &&
	cp "$TMP/off.yaml" "$MNT/$A/spec.yaml" &&
	expect_eq off "$(cat "$MNT/$A/external")" &&
	! oncloud cloud1 ip link show "maasu$id" 2>/dev/null &&
	expect_eq fail "$(out $A vm1)" &&
	grep -qx "    external: off" "$MNT/$A/spec.yaml" &&
	cp "$STATE/state.yaml" "$TMP/before" &&
	sed "s/^    external: off$/    external: maybe/" "$TMP/off.yaml" >"$TMP/bad.yaml" &&
	expect_errno EINVAL write "$MNT/$A/spec.yaml" "$(cat "$TMP/bad.yaml")" &&
	grep -q "external is on or off" "$MNT/$A/status" &&
	cmp "$TMP/before" "$STATE/state.yaml" &&
	sed "s/^    external: off$/    external: on/" "$TMP/off.yaml" >"$TMP/on.yaml" &&
	cp "$TMP/on.yaml" "$MNT/$A/spec.yaml" &&
	expect_eq on "$(cat "$MNT/$A/external")" &&
	grep -qx "uplink: 198.51.100.100 on cloud1" "$MNT/$A/status" &&
	expect_eq ok "$(out $A vm1)" &&
	grep -v "^    external:" "$TMP/off.yaml" >"$TMP/unsaid.yaml" &&
	cp "$TMP/unsaid.yaml" "$MNT/$A/spec.yaml" &&
	expect_eq on "$(cat "$MNT/$A/external")"
'

test_expect_success 'bad values, and a home cloud without external: errno, nothing changes' '
	cp "$STATE/state.yaml" "$TMP/before" &&
	expect_errno EINVAL write "$MNT/$A/external" yes &&
	expect_errno EINVAL write "$MNT/$A/external" "on x" &&
	cmp "$TMP/before" "$STATE/state.yaml" &&
	sed "/^  cloud2:/,\$ {/^ *external:/d}" "$LAB_CONFIG" >"$TMP/c2.yaml" &&
	maas_umount && maas_mount -o "config=$TMP/c2.yaml" &&
	wait_for 15 file_is "$MNT/clouds/cloud2/status" up &&
	expect_eq none "$(cat "$MNT/clouds/cloud2/external")" &&
	mkdir "$MNT/$C" &&
	echo "10.0.3.0/24 name=web cloud=cloud2" >"$MNT/$C/subnets/new" &&
	cp "$STATE/state.yaml" "$TMP/before" &&
	expect_errno ENOENT write "$MNT/$C/external" on &&
	grep -q "cloud cloud2, home of a subnet of $C, has no external network" "$MNT/$C/status" &&
	cmp "$TMP/before" "$STATE/state.yaml" &&
	expect_eq off "$(cat "$MNT/$C/external")" &&
	rmdir "$MNT/$C/subnets/web" "$MNT/$C" &&
	cp "$STATE/state.yaml" "$TMP/before2" &&
	expect_errno ENOENT write "$MNT/$A/subnets/new" "10.0.3.0/24 name=x cloud=cloud2" &&
	grep -q "tenant $A has external on, and cloud cloud2 has no external network" "$MNT/$A/status" &&
	! test -e "$MNT/$A/subnets/x" &&
	cmp "$TMP/before2" "$STATE/state.yaml"
'

test_expect_success 'a restart makes a missing uplink again' '
	id=$(cat "$MNT/$A/id") && ip=$(cat "$MNT/$A/vms/vm1/ip") &&
	maas_umount &&
	oncloud cloud1 ip link del "maasu$id" &&
	expect_eq fail "$(lab_ctl cloud1 $A "$ip" "ping $OUTSIDE")" &&
	maas_mount -o "config=$LAB_CONFIG" &&
	oncloud cloud1 ip -n "maas-$A" -o -4 addr show dev maasu | grep -q " 198.51.100.100/24 " &&
	expect_eq ok "$(out $A vm1)"
'

test_expect_success 'external off: the uplink and its address go; the guest is cut off' '
	id=$(cat "$MNT/$A/id") &&
	echo off >"$MNT/$A/external" &&
	expect_eq off "$(cat "$MNT/$A/external")" &&
	! grep -q "^uplink:" "$MNT/$A/status" &&
	! oncloud cloud1 ip link show "maasu$id" 2>/dev/null &&
	! oncloud cloud1 ip -n "maas-$A" link show maasu 2>/dev/null &&
	! grep -q "external: cloud1=198.51.100.100" "$STATE/state.yaml" &&
	grep -q "external: cloud1=198.51.100.101" "$STATE/state.yaml" &&
	expect_eq fail "$(out $A vm1)" &&
	expect_eq ok "$(out $B vm1)"
'

# tables CLOUD TENANT: the nftables tables in the tenant's namespace.
tables() {
	oncloud "$1" ip netns exec "maas-$2" nft list tables
}

test_expect_success 'a crash between the uplink and the save: the restart sweeps the uplink and its table' '
	id=$(cat "$MNT/$A/id") &&
	echo on >"$MNT/$A/external" &&
	oncloud cloud1 ip link show "maasu$id" >/dev/null &&
	tables cloud1 $A | grep -qx "table ip maasfs" &&
	maas_umount &&
	grep -q "external: cloud1=198.51.100.100" "$STATE/state.yaml" &&
	sed -i "/external: cloud1=198.51.100.100/d" "$STATE/state.yaml" &&
	maas_mount -o "config=$LAB_CONFIG" &&
	expect_eq off "$(cat "$MNT/$A/external")" &&
	! oncloud cloud1 ip link show "maasu$id" 2>/dev/null &&
	! oncloud cloud1 ip -n "maas-$A" link show maasu 2>/dev/null &&
	! tables cloud1 $A | grep -q maasfs &&
	expect_eq fail "$(out $A vm1)" &&
	expect_eq ok "$(out $B vm1)"
'

test_expect_success 'a crash between removing the uplink and its table: the restart sweeps the table; a table not ours stays' '
	maas_umount &&
	oncloud cloud1 ip netns exec "maas-$A" nft add table ip maasfs &&
	oncloud cloud1 ip netns exec "maas-$A" nft add table ip theirs &&
	maas_mount -o "config=$LAB_CONFIG" &&
	! tables cloud1 $A | grep -q maasfs &&
	tables cloud1 $A | grep -qx "table ip theirs" &&
	tables cloud1 $B | grep -qx "table ip maasfs" &&
	oncloud cloud1 ip netns exec "maas-$A" nft delete table ip theirs
'

test_expect_success 'b'"'"'s subnet removed, then a restart: b stays ready, on, with no uplink' '
	echo stop >"$MNT/$B/vms/vm1/state" && rmdir "$MNT/$B/vms/vm1" &&
	rmdir "$MNT/$B/subnets/web" &&
	maas_umount && maas_mount -o "config=$LAB_CONFIG" &&
	expect_eq ready "$(head -n1 "$MNT/$B/status")" &&
	expect_eq on "$(cat "$MNT/$B/external")" &&
	! grep -q "^uplink:" "$MNT/$B/status" &&
	! grep -q "external: cloud1=198.51.100.101" "$STATE/state.yaml"
'

# p I: the I-th of the tenants that turn external on at once
p() { echo "${T}p$1"; }

test_expect_success 'eight tenants turn external on at once: eight distinct addresses, each on its own uplink' '
	for i in 1 2 3 4 5 6 7 8; do
		mkdir "$MNT/$(p $i)" &&
		echo "10.0.1.0/24 name=s cloud=cloud1 dhcp=off" >"$MNT/$(p $i)/subnets/new" ||
			exit 1
	done &&
	pids= &&
	for i in 1 2 3 4 5 6 7 8; do
		echo on >"$MNT/$(p $i)/external" & pids="$pids $!"
	done &&
	for pid in $pids; do wait $pid || exit 1; done &&
	for i in 1 2 3 4 5 6 7 8; do
		a=$(sed -n "s/^uplink: \(.*\) on cloud1\$/\1/p" "$MNT/$(p $i)/status") &&
		oncloud cloud1 ip -n "maas-$(p $i)" -o -4 addr show dev maasu | grep -q " $a/24 " &&
		echo "$a" || exit 1
	done >"$TMP/addrs" &&
	expect_eq 8 "$(sort -u "$TMP/addrs" | wc -l)" &&
	for i in 1 2 3 4 5 6 7 8; do
		echo off >"$MNT/$(p $i)/external" &&
		rmdir "$MNT/$(p $i)/subnets/s" "$MNT/$(p $i)" || exit 1
	done
'

test_expect_success 'everything removed; nothing left on either cloud' '
	echo stop >"$MNT/$A/vms/vm1/state" && rmdir "$MNT/$A/vms/vm1" &&
	rmdir "$MNT/$A/subnets/web" "$MNT/$A" "$MNT/$B" &&
	lab_clean cloud1 && lab_clean cloud2 &&
	maas_umount &&
	lab down
'

test_done
