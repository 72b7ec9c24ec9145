#!/usr/bin/env bash
# Objects made but never used: after each kind (an empty estate, a tenant,
# a subnet without DHCP, one with DHCP and no lease, a VM defined and never
# started, on this host and on a lab cloud), an unmount and a new mount,
# then a kill -9 and a new mount, both answer, and every file of the tree
# reads. Empty listings, lease files, logs and consoles are the norm here
# (a VM never started has no disk: its cloud's disk folder is empty).
. "$(dirname "$0")/lib.sh"

A=${T}a

# Every file of the tree reads (events would wait for more; new is w).
tree_reads() {
	local f
	find "$MNT" -type f ! -name events ! -name new | sort >"$TMP/files" &&
	[ -s "$TMP/files" ] &&
	while read -r f; do
		cat "$f" >/dev/null || { echo "cannot read $f"; return 1; }
	done <"$TMP/files"
}

# remount: an unmount and a mount, then kill -9 and a mount; each time
# the same tree, every file readable, maasfs alive.
remount() {
	(cd "$MNT" && find . | sort) >"$TMP/tree.before" &&
	maas_umount && maas_mount "$@" && tree_reads &&
	(cd "$MNT" && find . | sort) >"$TMP/tree.after" &&
	diff "$TMP/tree.before" "$TMP/tree.after" &&
	maas_kill9 && maas_mount "$@" && tree_reads &&
	(cd "$MNT" && find . | sort) >"$TMP/tree.after" &&
	diff "$TMP/tree.before" "$TMP/tree.after" &&
	kill -0 "$(maas_pid)"
}

test_expect_success 'an empty estate' '
	vm_setup && maas_mount && remount
'

test_expect_success 'a tenant and nothing in it' '
	mkdir "$MNT/$A" && remount &&
	head -n1 "$MNT/$A/status" | grep -qx ready
'

test_expect_success 'a subnet without DHCP' '
	echo "10.0.2.0/24 name=nodhcp dhcp=off" >"$MNT/$A/subnets/new" &&
	remount && test ! -e "$MNT/$A/subnets/nodhcp/dhcp"
'

test_expect_success 'a subnet with DHCP and no lease yet (empty lease file)' '
	echo "10.0.1.0/24 name=web" >"$MNT/$A/subnets/new" &&
	v=$(cat "$MNT/$A/subnets/web/vni") &&
	pid=$(dnsmasq_pid "$v") && test -n "$pid" &&
	expect_eq "" "$(cat "$MNT/$A/subnets/web/dhcp/leases")" &&
	expect_eq "" "$(cat "$MNT/$A/subnets/web/dhcp/hosts")" &&
	remount &&
	expect_eq "$pid" "$(dnsmasq_pid "$v")" "dnsmasq adopted"
'

test_expect_success 'a VM defined and never started (no disk, empty console)' '
	mkdir "$MNT/$A/vms/vm1" &&
	expect_eq "" "$(ls -A "$STATE/disks" 2>/dev/null)" &&
	remount &&
	expect_eq stopped "$(cat "$MNT/$A/vms/vm1/state")" &&
	expect_eq "shut off" "$(domstate "$A" vm1)" &&
	expect_eq "" "$(cat "$MNT/$A/vms/vm1/console")" &&
	expect_eq none "$(cat "$MNT/$A/vms/vm1/migration")"
'

test_expect_success 'the estate as YAML reads and applies as it is' '
	cat "$MNT/spec.yaml" >"$TMP/spec" &&
	grep -q "vm1:" "$TMP/spec" &&
	cp "$STATE/state.yaml" "$TMP/state.before" &&
	cp "$TMP/spec" "$MNT/spec.yaml" &&
	cmp "$TMP/state.before" "$STATE/state.yaml"
'

test_expect_success 'everything removed, then a last remount of an empty estate' '
	rmdir "$MNT/$A/vms/vm1" "$MNT/$A/subnets/web" "$MNT/$A/subnets/nodhcp" \
		"$MNT/$A" &&
	remount && assert_clean && maas_umount
'

# The same on a lab cloud: a subnet stretched to cloud2 with nothing on
# it, and a VM placed on cloud2 that never ran (cloud2's disk folder is
# empty when the mount sweeps it through the agent).
test_expect_success 'the lab: a subnet and a never-started VM on cloud2' '
	lab_up 2 >/dev/null &&
	maas_mount -o config="$LAB_CONFIG" &&
	mkdir "$MNT/$A" &&
	echo "10.0.1.0/24 name=web cloud=cloud2" >"$MNT/$A/subnets/new" &&
	mkdir "$MNT/$A/vms/vm1" &&
	echo cloud1 >"$MNT/$A/vms/vm1/location" &&
	expect_eq "" "$(oncloud cloud1 ls -A /var/lib/maasfs-cloud/disks)" &&
	remount -o config="$LAB_CONFIG" &&
	expect_eq cloud1 "$(cat "$MNT/$A/vms/vm1/location")" &&
	expect_eq "shut off" "$(oncloud cloud1 virsh -c qemu:///system domstate "maas:$A:vm1")" &&
	expect_eq up "$(cat "$MNT/clouds/cloud1/status")" &&
	expect_eq up "$(cat "$MNT/clouds/cloud2/status")"
'

test_expect_success 'the lab: everything removed, nothing left on either cloud' '
	rmdir "$MNT/$A/vms/vm1" "$MNT/$A/subnets/web" "$MNT/$A" &&
	lab_clean cloud1 && lab_clean cloud2 && maas_umount
'

test_done
