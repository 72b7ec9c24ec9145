#!/usr/bin/env bash
# The kernel's cache (DESIGN §9): names and attributes the kernel has are
# not asked for again, and it is told as soon as they change: by an
# operation (before the operation returns), by spec.yaml, or by itself
# (a lease). Directory listings too. Counted on the debug output: every
# request that reaches maasfs is a line there ("unique: N, opcode: ..."
# from libfuse, "getattr[INO] PATH" from maasfs).
. "$(dirname "$0")/lib.sh"

A=${T}a
S=$MNT/$A/subnets/web
C1=${T}c1

leases_size() {
	stat -c %s "$S/dhcp/leases"
}

has_lease() {
	test "$(leases_size)" -gt 0
}

# How many times maasfs was asked for the attributes of PATH (in the tree).
asked() {
	grep -c "^getattr\[[^]]*\] $1\$" "$TMP/debug"
}

# How many requests reached maasfs (but STATFS: find asks it once).
requests() {
	grep "^unique: .*opcode: " "$TMP/debug" | grep -vc "opcode: STATFS"
}

test_expect_success 'mount in the foreground with FUSE debug output; a tenant and subnets' '
	"$MAASFS" -f -d -o "state=$STATE,vni=$VNI_FIRST-$VNI_LAST" "$MNT" \
		>"$TMP/debug" 2>&1 &
	wait_for 10 mountpoint -q "$MNT" &&
	mkdir "$MNT/$A" &&
	echo "10.0.1.0/24 name=web" >"$MNT/$A/subnets/new" &&
	echo "10.0.2.0/24 name=db dhcp=off" >"$MNT/$A/subnets/new" &&
	expect_eq 10.0.1.0/24 "$(cat "$S/cidr")"
'

test_expect_success 'a repeated stat is answered by the kernel' '
	p=/$A/subnets/web/cidr &&
	stat "$MNT$p" >/dev/null &&
	n=$(asked "$p") &&
	test "$n" -ge 1 &&
	for i in 1 2 3 4 5; do stat "$MNT$p" >/dev/null || exit 1; done &&
	expect_eq "$n" "$(asked "$p")" "getattr requests for $p" &&
	ls -l "$S" >/dev/null && ls -l "$S" >/dev/null &&
	expect_eq "$n" "$(asked "$p")" "after ls -l"
'

test_expect_success 'a listing is kept: ls -R again asks maasfs nothing' '
	ls -R "$MNT/$A" >"$TMP/ls1" && ls -R "$MNT/$A" >/dev/null &&
	n=$(requests) &&
	ls -R "$MNT/$A" >"$TMP/ls2" && find "$MNT/$A" >/dev/null &&
	expect_eq "$n" "$(requests)" "requests for ls -R and find" &&
	cmp "$TMP/ls1" "$TMP/ls2" &&
	! grep -q "opcode: RELEASEDIR" "$TMP/debug"
'

test_expect_success 'a kept listing shows a new subnet and loses a removed one at once' '
	ls "$MNT/$A/subnets" >/dev/null &&
	echo "10.0.3.0/24 name=tmp dhcp=off" >"$MNT/$A/subnets/new" &&
	ls "$MNT/$A/subnets" | grep -qx tmp &&
	rmdir "$MNT/$A/subnets/tmp" &&
	! ls "$MNT/$A/subnets" | grep -qx tmp &&
	: >"$MNT/$A/subnets/.scratch" &&
	ls -a "$MNT/$A/subnets" | grep -qx .scratch &&
	rm "$MNT/$A/subnets/.scratch" &&
	! ls -a "$MNT/$A/subnets" | grep -qx .scratch
'

test_expect_success 'a value written shows its new size at once' '
	expect_eq 21 "$(stat -c %s "$S/dhcp/range")" &&
	echo "10.0.1.100 10.0.1.199" >"$S/dhcp/range" &&
	expect_eq 22 "$(stat -c %s "$S/dhcp/range")" &&
	expect_eq "$(wc -c <"$S/dhcp/range")" "$(stat -c %s "$S/dhcp/range")"
'

test_expect_success 'a failed write shows in the status size at once' '
	before=$(stat -c %s "$MNT/$A/status") &&
	expect_errno EINVAL write "$MNT/$A/subnets/new" "10.0.300.0/24" &&
	after=$(stat -c %s "$MNT/$A/status") &&
	test "$after" -gt "$before" &&
	expect_eq "$(wc -c <"$MNT/$A/status")" "$after"
'

test_expect_success 'chown of a tenant shows on the files the kernel had' '
	expect_eq 0:0 "$(stat -c %u:%g "$S/cidr")" &&
	chown 4242:4343 "$MNT/$A" &&
	expect_eq 4242:4343 "$(stat -c %u:%g "$S/cidr")" &&
	expect_eq 4242:4343 "$(stat -c %u:%g "$S")" &&
	chown 0:0 "$MNT/$A" &&
	expect_eq 0:0 "$(stat -c %u:%g "$S/cidr")"
'

test_expect_success 'a subnet removed by spec.yaml is gone at once' '
	db=$MNT/$A/subnets/db &&
	stat "$db/cidr" >/dev/null && stat "$db" >/dev/null &&
	ls "$MNT/$A/subnets" | grep -qx db &&
	grep -v "^      db:" "$MNT/$A/spec.yaml" >"$TMP/spec" &&
	! grep -q "db:" "$TMP/spec" && grep -q "web:" "$TMP/spec" &&
	cp "$TMP/spec" "$MNT/$A/spec.yaml" &&
	! test -e "$db/cidr" &&
	! test -e "$db" &&
	! ls "$MNT/$A/subnets" | grep -qx db &&
	echo "10.0.2.0/24 name=db dhcp=off" >"$MNT/$A/subnets/new" &&
	expect_eq 10.0.2.0/24 "$(cat "$db/cidr")"
'

test_expect_success 'a lease, which changes by itself, reaches stat' '
	expect_eq 0 "$(leases_size)" &&
	client_add "$C1" "$(cat "$S/bridge")" &&
	client_dhcp "$C1" -x hostname:client1 &&
	wait_for 5 has_lease &&
	expect_eq "$(wc -c <"$S/dhcp/leases")" "$(leases_size)" &&
	grep -q " client1 " "$S/dhcp/leases"
'

test_expect_success 'the root files follow the estate' '
	before=$(stat -c %s "$MNT/spec.yaml") &&
	mkdir "$MNT/${T}b" &&
	test "$(stat -c %s "$MNT/spec.yaml")" -gt "$before" &&
	expect_eq "$(wc -c <"$MNT/spec.yaml")" "$(stat -c %s "$MNT/spec.yaml")" &&
	expect_eq "$(wc -c <"$MNT/status")" "$(stat -c %s "$MNT/status")" &&
	rmdir "$MNT/${T}b" &&
	expect_eq "$before" "$(stat -c %s "$MNT/spec.yaml")"
'

test_expect_success 'a scratch file renamed onto an attribute: the attribute again' '
	echo "10.0.1.50 10.0.1.60" >"$S/dhcp/.range.tmp" &&
	stat "$S/dhcp/.range.tmp" >/dev/null &&
	mv "$S/dhcp/.range.tmp" "$S/dhcp/range" &&
	expect_eq "10.0.1.50 10.0.1.60" "$(cat "$S/dhcp/range")" &&
	expect_eq "-rw-r--r-- 20" "$(stat -c "%A %s" "$S/dhcp/range")"
'

test_expect_success 'unmount; nothing left' '
	client_del "$C1" &&
	for s in web db; do rmdir "$MNT/$A/subnets/$s" || exit 1; done &&
	rmdir "$MNT/$A" &&
	maas_umount &&
	! grep -q " $MNT " /proc/mounts &&
	test -z "$(our_netns)" && test -z "$(our_links)"
'

test_done
