#!/usr/bin/env bash
# Long work can be stopped: Ctrl-C on the writer of a spec.yaml with many
# VMs stops it at its next step (EINTR, the steps done stay done and are
# reported); a lazy unmount or a SIGTERM in the middle of an apply stops
# it the same way and maasfs exits (with a reader blocked on events too);
# nothing is made twice or half, and the next mount sees the same estate
# as libvirt.
. "$(dirname "$0")/lib.sh"

A=${T}a
V=$MNT/$A/vms

# A tenant document with VMs vm1..vmN on subnet web.
doc() {
	local i
	echo "tenants:"
	echo "  $A:"
	echo "    subnets:"
	echo "      web: {cidr: 10.0.0.0/20, dhcp: on}"
	echo "    vms:"
	for i in $(seq 1 "$1"); do
		echo "      vm$i: {subnet: web}"
	done
}

# The VMs the tree lists, and the domains libvirt has for the tenant:
# the same names, every time.
same_as_libvirt() {
	local tree virt
	tree=$(ls "$V" | sort | xargs)
	virt=$(our_domains | sed "s/^maas:$A://" | sort | xargs)
	expect_eq "$tree" "$virt" "VMs in the tree vs domains in libvirt"
}

# apply_bg N: the document with N VMs written to the tenant's spec.yaml
# by fsop in the background (one write, applied at close); its errno
# lands in $TMP/bg.
apply_bg() {
	"$FSOP" write "$MNT/$A/spec.yaml" "$(doc "$1")" >"$TMP/bg" 2>&1 &
	BG=$!
}

test_expect_success 'libvirtd, the image, a mount, a tenant with a subnet' '
	vm_setup && maas_mount &&
	mkdir "$MNT/$A" && echo "10.0.0.0/20 name=web" >"$MNT/$A/subnets/new"
'

# (a domain is defined in ~30 ms: documents of hundreds of VMs give the
# signals time to arrive in the middle)
test_expect_success 'Ctrl-C on an apply of 100 VMs: EINTR at the next step, the rest not made' '
	apply_bg 100 &&
	wait_for 120 test -d "$V/vm1" &&
	kill -INT "$BG" &&
	wait_for 60 not_running "$BG" ;
	wait "$BG" ;
	expect_eq EINTR "$(cat "$TMP/bg")" &&
	n=$(ls "$V" | wc -l) && echo "VMs made: $n" &&
	test "$n" -ge 1 && test "$n" -lt 100 &&
	grep -q "last error: .*EINTR: interrupted before mkdir .*after [0-9]* change(s), which stay done" \
		"$MNT/$A/status" &&
	events_now | grep -q "failed EINTR: interrupted before mkdir" &&
	same_as_libvirt
'

test_expect_success 'writing it again finishes the job' '
	expect_ok write "$MNT/$A/spec.yaml" "$(doc 100)" &&
	expect_eq 100 "$(ls "$V" | wc -l)" &&
	test -d "$V/vm100" &&
	same_as_libvirt
'

test_expect_success 'a lazy unmount during an apply: it stops, maasfs exits' '
	pid=$(maas_pid) &&
	apply_bg 300 &&
	wait_for 120 test -d "$V/vm110" &&
	fusermount3 -uz "$MNT" &&
	wait_for 60 not_running "$pid" &&
	wait_for 60 not_running "$BG" ;
	wait "$BG" ; cat "$TMP/bg" &&
	grep -q "was unmounted: stopping" "$STATE/maasfs.log"
'

test_expect_success 'the next mount: what was made is whole, nothing twice' '
	maas_mount &&
	n=$(ls "$V" | wc -l) && echo "VMs: $n" &&
	test "$n" -ge 110 && test "$n" -lt 300 &&
	same_as_libvirt &&
	for v in $(ls "$V"); do
		expect_eq stopped "$(cat "$V/$v/state")" || exit 1
	done
'

test_expect_success 'SIGTERM during an apply, a reader blocked on events: maasfs exits' '
	pid=$(maas_pid) && test -n "$pid" &&
	{ cat "$MNT/events" >"$TMP/events.out" 2>&1 & } &&
	READER=$! &&
	n0=$(ls "$V" | wc -l) && echo "VMs before: $n0" &&
	apply_bg $((n0 + 200)) &&
	wait_for 120 grep -q "VM $A/vm$((n0 + 1)) defined" "$STATE/maasfs.log" &&
	kill -TERM "$pid" &&
	wait_for 60 not_running "$pid" &&
	wait_for 60 not_running "$BG" &&
	wait_for 60 not_running "$READER" ;
	wait "$BG" ; cat "$TMP/bg" &&
	expect_eq EINTR "$(cat "$TMP/bg")" &&
	! mountpoint -q "$MNT" &&
	maas_mount && same_as_libvirt &&
	test "$(ls "$V" | wc -l)" -lt $((n0 + 200))
'

test_expect_success 'everything removed' '
	expect_ok write "$MNT/$A/spec.yaml" "tenants: {$A: {subnets: {}, vms: {}}}" &&
	rmdir "$MNT/$A" && assert_clean && maas_umount
'

test_done
