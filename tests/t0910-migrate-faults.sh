#!/usr/bin/env bash
# Migration when things go wrong, on the lab with a real guest: writes while
# it runs, Ctrl-C on the writer (cold and live), the target's sshd killed
# during the copy, the target's libvirtd stopped, maasfs killed -9 half-way
# (cold and live). Each time the guest is defined on exactly one cloud,
# running, with its disk. Mounted with bandwidth=8 (MiB/s) so that a
# migration lasts long enough to be hit while it runs.
. "$(dirname "$0")/lib.sh"

A=${T}a
V=$MNT/$A/vms
M=$V/vm1/migration

other() { [ "$1" = cloud1 ] && echo cloud2 || echo cloud1; }

# bg VALUE: a write of VALUE to vm1's location in the background (fsop:
# its errno lands in $TMP/bg); BG is its pid.
bg() {
	"$FSOP" write "$V/vm1/location" "$1" >"$TMP/bg" 2>&1 &
	BG=$!
}

libvirt_down() {
	! oncloud "$1" virsh -c qemu:///system version >/dev/null 2>&1
}

copying() {
	grep -q "^progress: [1-9]" "$M"
}

# The guest is up: its console shows the line of its latest boot.
guest_up() {
	wait_console 90 "$V/vm1/console" "maas-tiny id=$ID boots=$1 ip=$(vm_ip vm1)"
}

ID=

# The guest runs on cloud2, its home, whatever cloud1 holds while out of
# reach (a copy finished before its sshd died stays there until it is
# back: then the janitor removes it).
on_source() {
	expect_eq cloud2 "$(cat "$V/vm1/location")" &&
	expect_eq running "$(oncloud cloud2 virsh -c qemu:///system domstate "maas:$A:vm1")" &&
	expect_eq 1 "$(disk_on cloud2 vm1)"
}

# plant CLOUD NAME: a file in the cloud's disk directory.
plant() {
	oncloud "$1" sh -c "head -c 1M /dev/urandom >/var/lib/maasfs-cloud/disks/$2"
}

# A disk of no VM maasfs knows: not its to remove (a disk directory may
# be shared).
UNKNOWN=01234567-89ab-cdef-0123-456789abcdef.qcow2

# only_unknown CLOUD: its disk directory holds that disk alone.
only_unknown() {
	expect_eq "$UNKNOWN" "$(oncloud "$1" ls -A /var/lib/maasfs-cloud/disks)"
}

status_down() {
	! file_is "$MNT/clouds/$1/status" up
}

# (a 64M disk: under a cap, QEMU's disk mirror counts its holes too)
test_expect_success 'lab, mount with a bandwidth cap, a running guest with 48 MiB on its disk' '
	lab_up 2 &&
	maas_mount -o "config=$LAB_CONFIG,bandwidth=8" &&
	wait_for 15 file_is "$MNT/clouds/cloud2/status" up &&
	mkdir "$MNT/$A" &&
	echo "10.0.1.0/24 name=web cloud=cloud1" >"$MNT/$A/subnets/new" &&
	mkdir "$V/vm1" && echo 128M >"$V/vm1/memory" && echo 64M >"$V/vm1/disk" &&
	echo start >"$V/vm1/state" &&
	wait_console 90 "$V/vm1/console" "maas-tiny id=.* ip=$(vm_ip vm1)" &&
	expect_eq ok "$(lab_ctl cloud1 "$A" "$(vm_ip vm1)" "fill 48")" &&
	guest_id vm1 >"$TMP/id0" && grep -q "boots=1$" "$TMP/id0"
'
ID=$(sed -n 's/^maas-tiny id=\([0-9a-f]*\) .*/\1/p' "$TMP/id0" 2>/dev/null)

test_expect_success 'while it migrates: migrating, progress, and every other write is EBUSY' '
	bg cloud2 &&
	wait_for 60 copying &&
	expect_eq migrating "$(cat "$V/vm1/state")" &&
	grep -qx "phase: transfer" "$M" && grep -qx "mode: live" "$M" &&
	grep -q "^rate: [0-9.]* MiB/s$" "$M" && grep -q "^elapsed: " "$M" &&
	expect_errno EBUSY write "$V/vm1/location" cloud1 &&
	expect_errno EBUSY write "$V/vm1/state" stop &&
	expect_errno EBUSY write "$V/vm1/memory" 256M &&
	expect_errno EBUSY rmdir "$V/vm1" &&
	wait "$BG" && expect_eq OK "$(cat "$TMP/bg")" &&
	only_on vm1 cloud2 running &&
	expect_eq "$(cat "$TMP/id0")" "$(guest_id vm1)"
'

test_expect_success 'Ctrl-C on a live migration: EINTR; it keeps running where it was' '
	bg cloud1 &&
	wait_for 60 copying &&
	kill -INT "$BG" && wait "$BG" ;
	expect_eq EINTR "$(cat "$TMP/bg")" &&
	grep -qx "result: failed EINTR" "$M" &&
	only_on vm1 cloud2 running &&
	wait_for 30 clean_on cloud1 &&
	expect_eq "$(cat "$TMP/id0")" "$(guest_id vm1)"
'

test_expect_success 'Ctrl-C on a cold copy: EINTR; the guest runs again on the source, the target keeps nothing' '
	bg "cloud1 mode=cold" &&
	wait_for 60 copying &&
	kill -INT "$BG" && wait "$BG" ;
	expect_eq EINTR "$(cat "$TMP/bg")" &&
	grep -qx "result: failed EINTR" "$M" && grep -qx "mode: cold" "$M" &&
	only_on vm1 cloud2 running &&
	wait_for 30 clean_on cloud1 &&
	guest_up 2
'

test_expect_success 'the target'"'"'s sshd killed during a cold copy: the write fails, nothing moved' '
	bg "cloud1 mode=cold" &&
	wait_for 60 copying &&
	lab sshd cloud1 stop &&
	wait "$BG" ;
	got=$(cat "$TMP/bg") && [ "$got" != OK ] && echo "got $got" &&
	grep -q "^result: failed E" "$M" &&
	on_source &&
	lab sshd cloud1 start &&
	wait_for 20 file_is "$MNT/clouds/cloud1/status" up &&
	wait_for 30 clean_on cloud1 &&
	only_on vm1 cloud2 running &&
	guest_up 3
'

test_expect_success 'the target'"'"'s libvirtd stopped: EHOSTUNREACH, nothing changed' '
	pidf=/var/lib/maas-lab-$T/cloud1/run-libvirt/libvirtd.pid &&
	kill "$(cat "$pidf")" &&
	wait_for 20 libvirt_down cloud1 &&
	expect_errno EHOSTUNREACH write "$V/vm1/location" cloud1 &&
	grep -q "^error: .*cloud1" "$M" &&
	expect_eq cloud2 "$(cat "$V/vm1/location")" &&
	expect_eq "maas-tiny id=$ID boots=3" "$(guest_id vm1)" &&
	lab up 2 &&
	only_on vm1 cloud2 running && clean_on cloud1
'

test_expect_success 'maasfs killed -9 during a cold copy; the next mount rolls it back' '
	bg "cloud1 mode=cold" &&
	wait_for 60 copying &&
	maas_kill9 && wait "$BG" ;
	fusermount3 -uz "$MNT" &&
	grep -q "^ *phase: transfer$" "$STATE/state.yaml" &&
	maas_mount -o "config=$LAB_CONFIG,bandwidth=8" &&
	grep -qx "result: failed EINTR" "$M" &&
	grep -q "^error: maasfs stopped during the disk copy" "$M" &&
	only_on vm1 cloud2 running &&
	expect_eq running "$(cat "$V/vm1/state")" &&
	wait_for 30 clean_on cloud1 &&
	guest_up 4
'

test_expect_success 'maasfs killed -9 during a live migration; after the next mount the guest is on one cloud, running' '
	bg cloud1 &&
	wait_for 60 copying &&
	maas_kill9 && wait "$BG" ;
	fusermount3 -uz "$MNT" &&
	maas_mount -o "config=$LAB_CONFIG,bandwidth=8" &&
	at=$(cat "$V/vm1/location") &&
	only_on vm1 "$at" running &&
	wait_for 30 clean_on "$(other "$at")" &&
	expect_eq running "$(cat "$V/vm1/state")" &&
	guest_id vm1 | grep -q "^maas-tiny id=$ID boots=4$"
'

test_expect_success 'copies left on a cloud out of reach go once it is back; an unknown disk stays' '
	u=$(uuid_of vm1) && at=$(cat "$V/vm1/location") && o=$(other "$at") &&
	lab sshd "$o" stop &&
	wait_for 20 status_down "$o" &&
	plant "$o" "$u.qcow2" && plant "$o" ".$u.qcow2.part" && plant "$o" "$u.console" &&
	plant "$o" "$UNKNOWN" &&
	lab sshd "$o" start &&
	wait_for 30 only_unknown "$o" &&
	grep -q "removed the disk of $A/vm1 from $o" "$STATE/maasfs.log" &&
	only_on vm1 "$at" running &&
	expect_eq running "$(cat "$V/vm1/state")"
'

test_expect_success 'and at the next mount, what was left while maasfs was away' '
	u=$(uuid_of vm1) && at=$(cat "$V/vm1/location") && o=$(other "$at") &&
	maas_umount &&
	plant "$o" ".$u.qcow2.part" && plant "$o" "$u.qcow2" &&
	maas_mount -o "config=$LAB_CONFIG,bandwidth=8" &&
	only_unknown "$o" &&
	oncloud "$o" rm "/var/lib/maasfs-cloud/disks/$UNKNOWN" &&
	only_on vm1 "$at" running &&
	guest_id vm1 | grep -q "^maas-tiny id=$ID boots=4$"
'

test_expect_success 'everything deleted leaves nothing on either cloud' '
	echo stop >"$V/vm1/state" && rmdir "$V/vm1" &&
	rmdir "$MNT/$A/subnets/web" "$MNT/$A" &&
	lab_clean cloud1 && lab_clean cloud2 &&
	maas_umount &&
	lab down
'

test_done
