#!/usr/bin/env bash
# Security groups (issue 18), on the lab with real guests: a VM's groups'
# rules say what reaches it and what leaves it, on the cloud where it
# runs (a table ip maasfs_t<ID> on the bridge's IPv4 path). The default
# group lets in only its members; the outside reaches a guest by its
# floating address only on a port a group opens; a change of rules or of
# a VM's groups takes effect at once; a guest in no group with the other
# is cut off from it; after a live migration and a restart the rules
# still hold; bad input changes nothing.
. "$(dirname "$0")/lib.sh"

A=${T}a
V=$MNT/$A/vms
G=$MNT/$A/secgroups
F=198.51.100.150

guest() {
	mkdir "$V/$1" && echo 128M >"$V/$1/memory" && echo start >"$V/$1/state" &&
	wait_console 90 "$V/$1/console" "maas-tiny id=.* ip=$(cat "$V/$1/ip")"
}

# ctl VM COMMAND: from the tenant's namespace (the subnet's gateway).
ctl() {
	lab_ctl cloud1 $A "$(cat "$V/$1/ip")" "$2"
}

# from_outside: the id of the guest the outside host reaches at $F:7777.
from_outside() {
	echo id | oncloud outside timeout 15 busybox nc -w 3 $F 7777
}

# ping_vm FROM TO: the guest FROM pings the guest TO.
ping_vm() {
	ctl "$1" "ping $(cat "$V/$2/ip")"
}

test_expect_success 'lab, mount; two guests on subnet web (cloud1), external on, a floating address for vm1' '
	lab_up 2 &&
	maas_mount -o "config=$LAB_CONFIG" &&
	wait_for 15 file_is "$MNT/clouds/cloud1/status" up &&
	mkdir "$MNT/$A" &&
	echo "10.0.1.0/24 name=web cloud=cloud1" >"$MNT/$A/subnets/new" &&
	guest vm1 && guest vm2 &&
	echo on >"$MNT/$A/external" &&
	echo "vm1 $F" >"$MNT/$A/floating/new" &&
	expect_eq default "$(ls "$G" | xargs)" &&
	expect_eq "$(printf "in any group default\nout any")" "$(cat "$G/default/rules")" &&
	expect_eq default "$(cat "$V/vm1/secgroups")"
'

test_expect_success 'default: members reach each other, the gateway reaches them, the outside does not' '
	expect_eq ok "$(ping_vm vm1 vm2)" &&
	expect_eq ok "$(ping_vm vm2 vm1)" &&
	expect_eq ok "$(ctl vm1 "ping 203.0.113.10")" &&
	test -z "$(from_outside)"
'

test_expect_success 'a group web opening TCP 7777 to anywhere, vm1 in it: the outside reaches vm1' '
	mkdir "$G/web" &&
	expect_eq "out any" "$(cat "$G/web/rules")" &&
	echo "in tcp 7777 from 0.0.0.0/0" >"$G/web/rules" &&
	echo "default web" >"$V/vm1/secgroups" &&
	expect_eq "default web" "$(cat "$V/vm1/secgroups")" &&
	expect_eq "$(ctl vm1 id)" "$(from_outside)" &&
	grep -q "secgroups: default web" "$STATE/state.yaml"
'

test_expect_success 'a rule change takes effect at once: another port, nothing; 7777 again, through' '
	echo "in tcp 7000-7010 from 0.0.0.0/0" >"$G/web/rules" &&
	test -z "$(from_outside)" &&
	printf "in tcp 7777 from 203.0.113.0/24\nout any\n" >"$G/web/rules" &&
	expect_eq "$(printf "in tcp 7777 from 203.0.113.0/24\nout any")" "$(cat "$G/web/rules")" &&
	expect_eq "$(ctl vm1 id)" "$(from_outside)"
'

test_expect_success 'vm2 moved out of default into a group with no in rule: it and vm1 no longer reach each other' '
	mkdir "$G/iso" &&
	echo iso >"$V/vm2/secgroups" &&
	expect_eq fail "$(ping_vm vm2 vm1)" &&
	expect_eq fail "$(ping_vm vm1 vm2)" &&
	expect_eq ok "$(ctl vm2 "ping 10.0.1.1")" &&
	echo default >"$V/vm2/secgroups" &&
	expect_eq ok "$(ping_vm vm2 vm1)"
'

test_expect_success 'bad input: errno, a reason, nothing changes' '
	cp "$STATE/state.yaml" "$TMP/before" &&
	expect_errno EBUSY rmdir "$G/web" &&
	grep -q "VM vm1 is in group web" "$MNT/$A/status" &&
	expect_errno EPERM rmdir "$G/default" &&
	expect_errno EINVAL write "$G/web/rules" "in tcp 7777 from nowhere" &&
	expect_errno EINVAL write "$G/web/rules" "$(printf "in tcp 22\nin tcp 99999\n")" &&
	grep -q "line 2" "$MNT/$A/status" &&
	expect_errno ENOENT write "$G/web/rules" "in any group nosuch" &&
	expect_errno ENOENT write "$V/vm1/secgroups" "default nosuch" &&
	expect_errno EINVAL write "$V/vm1/secgroups" " " &&
	expect_errno EEXIST mkdir "$G/web" &&
	cmp "$TMP/before" "$STATE/state.yaml" &&
	expect_eq "$(ctl vm1 id)" "$(from_outside)"
'

test_expect_success 'after a live migration of vm1 to cloud2 the rules hold there' '
	echo cloud2 >"$V/vm1/location" &&
	expect_eq cloud2 "$(cat "$V/vm1/location")" &&
	oncloud cloud2 nft list table ip "maasfs_t$(cat "$MNT/$A/id")" | grep -q "dport 7777" &&
	expect_eq "$(ctl vm1 id)" "$(from_outside)" &&
	expect_eq ok "$(ping_vm vm2 vm1)" &&
	echo "in tcp 7000 from 0.0.0.0/0" >"$G/web/rules" &&
	test -z "$(from_outside)"
'

test_expect_success 'a restart keeps groups and rules' '
	maas_umount && maas_mount -o "config=$LAB_CONFIG" &&
	expect_eq "default iso web" "$(ls "$G" | xargs)" &&
	expect_eq "in tcp 7000 from 0.0.0.0/0" "$(cat "$G/web/rules")" &&
	expect_eq "default web" "$(cat "$V/vm1/secgroups")" &&
	test -z "$(from_outside)" &&
	echo "in tcp 7777 from 0.0.0.0/0" >"$G/web/rules" &&
	expect_eq "$(ctl vm1 id)" "$(from_outside)"
'

test_expect_success 'spec.yaml carries groups, a VM'"'"'s groups and floating addresses both ways; a bad rule changes nothing' '
	grep -qx "      web: in tcp 7777 from 0.0.0.0/0" "$MNT/$A/spec.yaml" &&
	grep -qx "      iso: out any" "$MNT/$A/spec.yaml" &&
	grep -qx "    floating: {$F: vm1}" "$MNT/$A/spec.yaml" &&
	grep -q "vm1: {.*secgroups: default web" "$MNT/$A/spec.yaml" &&
	cat "$MNT/$A/spec.yaml" >"$TMP/orig.yaml" &&
	sed -e "s|web: in tcp 7777 from 0.0.0.0/0|web: in tcp 7000 from 0.0.0.0/0; out any|" \
	    -e "/^      iso:/d" -e "s|{$F: vm1}|{$F: vm2}|" \
	    -e "/vm1: {/s/secgroups: default web/secgroups: web/" \
	    "$TMP/orig.yaml" >"$TMP/new.yaml" &&
	cp "$TMP/new.yaml" "$MNT/$A/spec.yaml" &&
	expect_eq "default web" "$(ls "$G" | xargs)" &&
	expect_eq "$(printf "in tcp 7000 from 0.0.0.0/0\nout any")" "$(cat "$G/web/rules")" &&
	expect_eq vm2 "$(cat "$MNT/$A/floating/$F/vm")" &&
	expect_eq web "$(cat "$V/vm1/secgroups")" &&
	test -z "$(from_outside)" &&
	cp "$STATE/state.yaml" "$TMP/before" &&
	sed "s|web: in tcp 7000 from 0.0.0.0/0; out any|web: in tcp seven|" "$TMP/new.yaml" >"$TMP/bad.yaml" &&
	expect_errno EINVAL write "$MNT/$A/spec.yaml" "$(cat "$TMP/bad.yaml")" &&
	cmp "$TMP/before" "$STATE/state.yaml" &&
	cp "$TMP/orig.yaml" "$MNT/$A/spec.yaml" &&
	expect_eq "default iso web" "$(ls "$G" | xargs)" &&
	expect_eq vm1 "$(cat "$MNT/$A/floating/$F/vm")" &&
	expect_eq "default web" "$(cat "$V/vm1/secgroups")" &&
	expect_eq "$(ctl vm1 id)" "$(from_outside)" &&
	diff -u "$TMP/orig.yaml" "$MNT/$A/spec.yaml"
'

# tbl CLOUD: the tenant's table ip maasfs_t<ID> there.
tbl() {
	oncloud "$1" nft list table ip "maasfs_t$(cat "$MNT/$A/id")"
}

test_expect_success 'cloud2 (vm1'"'"'s) out of reach: a rule change applies at once where it can, and on cloud2 once it is back' '
	tbl cloud2 | grep -q "dport 7777" &&
	lab sshd cloud2 stop &&
	wait_for 20 grep -q "^down: " "$MNT/clouds/cloud2/status" &&
	timeout 10 sh -c "echo \"in tcp 7100 from 0.0.0.0/0\" >\"$G/web/rules\"" &&
	expect_eq "in tcp 7100 from 0.0.0.0/0" "$(cat "$G/web/rules")" &&
	grep -q "its ports on cloud2" "$STATE/maasfs.log" &&
	lab sshd cloud2 start &&
	wait_for 30 file_is "$MNT/clouds/cloud2/status" up &&
	wait_for 30 eval "tbl cloud2 | grep -q \"dport 7100\"" &&
	! tbl cloud2 | grep -q "dport 7777" &&
	echo "in tcp 7777 from 0.0.0.0/0" >"$G/web/rules" &&
	expect_eq "$(ctl vm1 id)" "$(from_outside)"
'

test_expect_success 'everything removed; nothing left' '
	id=$(cat "$MNT/$A/id") &&
	rmdir "$MNT/$A/floating/$F" &&
	for v in vm1 vm2; do
		echo stop >"$V/$v/state" && rmdir "$V/$v" || exit 1
	done &&
	rmdir "$G/web" "$G/iso" &&
	rmdir "$MNT/$A/subnets/web" "$MNT/$A" &&
	! oncloud cloud1 nft list table ip "maasfs_t$id" 2>/dev/null &&
	! oncloud cloud2 nft list table ip "maasfs_t$id" 2>/dev/null &&
	lab_clean cloud1 && lab_clean cloud2 &&
	maas_umount &&
	lab down
'

test_done
