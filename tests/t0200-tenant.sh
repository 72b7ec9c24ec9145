#!/usr/bin/env bash
# Tenants: mkdir makes the router namespace maas-<tenant>, rmdir removes it.
. "$(dirname "$0")/lib.sh"

A=${T}a
B=${T}b

test_expect_success 'mount' '
	maas_mount
'

test_expect_success 'mkdir makes the namespace, visible to ip netns' '
	mkdir "$MNT/$A" &&
	ip netns list | grep -qx "maas-$A\( (id: [0-9]*)\)\?" &&
	ip -n "maas-$A" link show lo | grep -q "UP" &&
	expect_eq "maas-$A" "$(our_netns)"
'

test_expect_success 'the tenant directory: id, status, subnets/, vms/' '
	expect_eq "external floating id plan quota secgroups spec.yaml status subnets vms" "$(ls "$MNT/$A" | xargs)" &&
	expect_eq 1 "$(cat "$MNT/$A/id")" &&
	head -n1 "$MNT/$A/status" | grep -qx ready &&
	grep -qx "namespace: maas-$A on local" "$MNT/$A/status" &&
	expect_eq "new" "$(ls "$MNT/$A/subnets")" &&
	expect_eq "" "$(ls "$MNT/$A/vms")" &&
	grep -q "^  $A:$" "$STATE/state.yaml"
'

test_expect_success 'a second tenant gets the next id; ids are reused' '
	mkdir "$MNT/$B" &&
	expect_eq 2 "$(cat "$MNT/$B/id")" &&
	rmdir "$MNT/$A" &&
	! ip netns list | grep -q "^maas-$A\b" &&
	mkdir "$MNT/$A" &&
	expect_eq 1 "$(cat "$MNT/$A/id")"
'

test_expect_success 'bad names are EINVAL and change nothing' '
	cp "$STATE/state.yaml" "$TMP/before" &&
	kernel_snapshot >"$TMP/k.before" &&
	for name in ".x" "-x" "a b" "caf$(printf "\303\251")" "x:y" "a,b" \
		    "0123456789abcdef0123456789abcdefX" "\$(id)"; do
		expect_errno EINVAL mkdir "$MNT/$name" || exit 1
	done &&
	cmp "$TMP/before" "$STATE/state.yaml" &&
	kernel_snapshot >"$TMP/k.after" &&
	diff "$TMP/k.before" "$TMP/k.after"
'

test_expect_success 'names taken are EEXIST' '
	expect_errno EEXIST mkdir "$MNT/$A" &&
	expect_errno EEXIST mkdir "$MNT/clouds"
'

test_expect_success 'a namespace of the same name that is not ours is EEXIST' '
	ip netns add "maas-${T}c" &&
	expect_errno EEXIST mkdir "$MNT/${T}c" &&
	! ls "$MNT" | grep -qx "${T}c" &&
	ip netns list | grep -q "^maas-${T}c\b" &&
	ip netns del "maas-${T}c"
'

test_expect_success 'attribute files cannot be written or removed' '
	expect_errno EACCES write "$MNT/$A/id" 7 &&
	expect_errno EPERM unlink "$MNT/$A/id" &&
	expect_errno EPERM unlink "$MNT/$A/status" &&
	grep -q "unlink status: EPERM: attribute files cannot be removed" \
		"$MNT/$A/status" &&
	expect_errno EPERM rmdir "$MNT/$A/subnets" &&
	expect_errno EPERM rmdir "$MNT/$A/vms" &&
	grep -q "rmdir vms: EPERM: default directories cannot be removed" \
		"$MNT/$A/status"
'

test_expect_success 'a tenant with a subnet is ENOTEMPTY, the reason in status' '
	echo 10.0.1.0/24 >"$MNT/$A/subnets/new" &&
	expect_errno ENOTEMPTY rmdir "$MNT/$A" &&
	grep -q "rmdir $A: ENOTEMPTY: tenant $A still has 1 subnet" \
		"$MNT/$A/status" &&
	rmdir "$MNT/$A/subnets/10.0.1.0_24" &&
	rmdir "$MNT/$A"
'

test_expect_success 'rmdir removes the namespaces; nothing is left' '
	rmdir "$MNT/$B" &&
	expect_eq "clouds events plan spec.yaml status topology.dot" "$(ls "$MNT" | xargs)" &&
	grep -q "^tenants: {}" "$STATE/state.yaml" &&
	assert_clean
'

test_expect_success 'unmount' '
	maas_umount
'

test_done
