#!/usr/bin/env bash
# Anti-spoofing per VM port (issue 18), on the lab with real guests: a
# VM's tap is named by maasfs in its domain (maasp + its MAC's last three
# bytes) and a bridge-family table of the tenant on the VM's cloud lets
# out only frames with the VM's own MAC and, as IPv4 or ARP, its own
# address (DHCP's 0.0.0.0 aside). The guest changes its address, then its
# MAC, and pings its gateway: nothing gets through; the same ping with its
# own gets through. After a live migration, the rules are on the new cloud
# and gone from the old one.
. "$(dirname "$0")/lib.sh"

A=${T}a
V=$MNT/$A/vms

# ctl COMMAND: to the guest's control port, from the tenant's namespace on
# its subnet's home (cloud1), wherever the guest runs.
ctl() {
	lab_ctl cloud1 $A "$(cat "$V/vm1/ip")" "$1"
}

# tap: the port's name, from the VM's MAC.
tap() {
	echo "maasp$(cut -d: -f4- "$V/vm1/mac" | tr -d :)"
}

table() {
	oncloud "$1" nft list table bridge "maasfs_t$(cat "$MNT/$A/id")"
}

test_expect_success 'lab, mount; a guest on subnet web of cloud1; its tap is maasfs'"'"'s, its rules in the tenant'"'"'s table' '
	lab_up 2 &&
	maas_mount -o "config=$LAB_CONFIG" &&
	wait_for 15 file_is "$MNT/clouds/cloud1/status" up &&
	mkdir "$MNT/$A" &&
	echo "10.0.1.0/24 name=web cloud=cloud1" >"$MNT/$A/subnets/new" &&
	mkdir "$V/vm1" && echo 128M >"$V/vm1/memory" &&
	echo start >"$V/vm1/state" &&
	wait_console 90 "$V/vm1/console" "maas-tiny id=.* ip=$(cat "$V/vm1/ip")" &&
	oncloud cloud1 ip -o link show "$(tap)" | grep -q " master maasb" &&
	table cloud1 | grep -q "iifname \"$(tap)\" jump from_$(tap)" &&
	table cloud1 | grep -q "ether saddr != $(cat "$V/vm1/mac") drop" &&
	table cloud1 | grep -q "ip saddr != $(cat "$V/vm1/ip") drop"
'

test_expect_success 'its own address and MAC get through; another address or MAC gets nothing' '
	expect_eq ok "$(ctl "ping 10.0.1.1")" &&
	expect_eq fail "$(ctl "spoof ip 10.0.1.77 10.0.1.1")" &&
	expect_eq ok "$(ctl "ping 10.0.1.1")" &&
	expect_eq fail "$(ctl "spoof mac 52:54:00:de:ad:01 10.0.1.1")" &&
	expect_eq ok "$(ctl "ping 10.0.1.1")"
'

test_expect_success 'after a live migration: the rules are on cloud2, gone from cloud1, and still hold' '
	echo cloud2 >"$V/vm1/location" &&
	expect_eq cloud2 "$(cat "$V/vm1/location")" &&
	table cloud2 | grep -q "iifname \"$(tap)\" jump from_$(tap)" &&
	! table cloud1 2>/dev/null &&
	oncloud cloud2 ip -o link show "$(tap)" | grep -q " master maasb" &&
	expect_eq ok "$(ctl "ping 10.0.1.1")" &&
	expect_eq fail "$(ctl "spoof ip 10.0.1.77 10.0.1.1")" &&
	expect_eq fail "$(ctl "spoof mac 52:54:00:de:ad:01 10.0.1.1")" &&
	expect_eq ok "$(ctl "ping 10.0.1.1")"
'

test_expect_success 'a restart writes the table again; removing the VM removes it' '
	oncloud cloud2 nft delete table bridge "maasfs_t$(cat "$MNT/$A/id")" &&
	maas_umount && maas_mount -o "config=$LAB_CONFIG" &&
	table cloud2 | grep -q "jump from_$(tap)" &&
	echo stop >"$V/vm1/state" && rmdir "$V/vm1" &&
	! table cloud2 2>/dev/null && ! table cloud1 2>/dev/null
'

test_expect_success 'a mount sweeps the port table of a tenant the state does not know; a table not ours stays' '
	maas_umount &&
	oncloud cloud1 nft add table bridge maasfs_t999 &&
	oncloud cloud1 nft add table bridge theirs &&
	maas_mount -o "config=$LAB_CONFIG" &&
	! oncloud cloud1 nft list table bridge maasfs_t999 2>/dev/null &&
	oncloud cloud1 nft list table bridge theirs >/dev/null &&
	oncloud cloud1 nft delete table bridge theirs
'

test_expect_success 'everything removed; nothing left' '
	rmdir "$MNT/$A/subnets/web" "$MNT/$A" &&
	lab_clean cloud1 && lab_clean cloud2 &&
	maas_umount &&
	lab down
'

test_done
