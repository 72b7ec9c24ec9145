#!/usr/bin/env bash
# Evacuating a cloud (issue 19, part 3), on a lab of three clouds with real
# guests: `echo drain > clouds/cloud2/state` moves the subnet's gateway and
# DHCP and every VM off cloud2 (live where they run, the same boots), spread
# over cloud1 and cloud3, and leaves nothing there; cloud2 then takes no new
# placement (EBUSY, across a remount) until it is active again. A VM that
# cannot move is named with its reason and the rest still move; a cloud
# that is down is passed over; Ctrl-C and kill -9 in the middle leave each
# guest whole on one cloud, and drain again finishes. Bad values.
# tests/run: busy (guests booting and moving keep the CPUs busy)
. "$(dirname "$0")/lib.sh"

A=${T}a
W=$MNT/$A/subnets/web
V=$MNT/$A/vms
C2=$MNT/clouds/cloud2
VMS="g0 g1 g2 g3"
CLOUDS="cloud1 cloud2 cloud3"

# whole_on VM CLOUD STATE: libvirt has the VM on CLOUD in STATE with its
# disk, and neither other cloud has its domain or its disk.
whole_on() {
	local c
	expect_eq "$2" "$(cat "$V/$1/location")" &&
	expect_eq "$3" "$(oncloud "$2" virsh -c qemu:///system domstate "maas:$A:$1")" &&
	expect_eq 1 "$(disk_on "$2" "$1")" || return 1
	for c in $CLOUDS; do
		[ "$c" = "$2" ] && continue
		! domains_on "$c" | grep -qx "maas:$A:$1" &&
		expect_eq 0 "$(disk_on "$c" "$1")" || return 1
	done
}

# power VM: what the guest should be (g3 ran once and was stopped)
power() { if [ "$1" = g3 ]; then echo "shut off"; else echo running; fi; }

# each_whole [VM...]: every guest whole on exactly one cloud (its location)
each_whole() {
	local g
	for g in ${*:-$VMS}; do
		whole_on "$g" "$(cat "$V/$g/location")" "$(power "$g")" || return 1
	done
}

# ask G: the guest's identity, asked from the subnet's home
ask() { lab_ctl "$(cat "$W/cloud")" "$A" "$(vm_ip "$1")" id; }
answers_as() { expect_eq "$(cat "$TMP/id-$1")" "$(ask "$1")"; }
answers() { [ -n "$(ask "$1")" ]; }

# same_boots [VM...]: the running guests answer with the identity they had
# at first, within 30 s (one that just landed is reached once the bridges
# and the VXLAN learnt where it is now)
same_boots() {
	local g
	for g in ${*:-g0 g1 g2}; do
		wait_for 30 answers_as "$g" ||
			tcg_panic "$V/$g" "$TMP/id-$g" "$(ask "$g")" ||
			{ console_tail "$V/$g"; return 1; }
	done
}

# same_boots_or_told: as same_boots, but a guest that booted anew passes
# if maasfs said so (a kill -9 at a live migration's switchover: the
# rollback found the source's domain shut off and started it; seen once
# in CI); it keeps its id, and its new identity is the one to keep
same_boots_or_told() {
	local g now
	for g in g0 g1 g2; do
		wait_for 30 answers "$g" || return 1
		now=$(ask "$g")
		[ "$now" = "$(cat "$TMP/id-$g")" ] && continue
		tcg_panic "$V/$g" "$TMP/id-$g" "$now" && continue
		expect_eq "$(cut -d" " -f2 "$TMP/id-$g")" "$(echo "$now" | cut -d" " -f2)" &&
		grep -q "migration of $A/$g: rollback: the source.s domain was shut off .*: the guest starts anew" "$STATE/maasfs.log" ||
			return 1
		echo "# $g booted anew after the kill, as maasfs said: $now"
		echo "$now" >"$TMP/id-$g"
	done
}

# on CLOUD: how many of the guests are there
on() {
	local g n=0
	for g in $VMS; do
		[ -d "$V/$g" ] && [ "$(cat "$V/$g/location")" = "$1" ] && n=$((n + 1))
	done
	echo $n
}

# back_home: cloud2 active, the subnet and every guest on it again
back_home() {
	echo active >"$C2/state" &&
	echo cloud2 >"$W/cloud" &&
	for g in $VMS; do
		[ -d "$V/$g" ] || continue
		whole_on "$g" cloud2 "$(power "$g")" || return 1
	done
}

# bg VALUE: a write of VALUE to cloud2's state in the background
bg() {
	"$FSOP" write "$C2/state" "$1" >"$TMP/bg" 2>&1 &
	BG=$!
}

moving() {
	grep -q "^evacuation: moving 3 VM(s), 3 at a time" "$C2/status" &&
	grep -q "^phase: transfer$" "$V/g0/migration"
}

test_expect_success 'lab of three clouds, mount; subnet web on cloud2 with three running guests and one that ran and is stopped' '
	lab_up 3 &&
	maas_mount -o "config=$LAB_CONFIG" &&
	for c in $CLOUDS; do wait_for 15 file_is "$MNT/clouds/$c/status" up || exit 1; done &&
	expect_eq active "$(cat "$C2/state")" &&
	mkdir "$MNT/$A" &&
	echo "10.0.1.0/24 name=web cloud=cloud2" >"$MNT/$A/subnets/new" &&
	for g in $VMS; do
		mkdir "$V/$g" && echo 128M >"$V/$g/memory" && echo 64M >"$V/$g/disk" &&
		echo start >"$V/$g/state" || exit 1
	done &&
	for g in $VMS; do
		wait_console 120 "$V/$g/console" "maas-tiny id=.* ip=$(vm_ip $g)" &&
		lab_ctl cloud2 "$A" "$(vm_ip $g)" id >"$TMP/id-$g" &&
		grep -q "boots=1$" "$TMP/id-$g" || exit 1
	done &&
	echo stop >"$V/g3/state" &&
	each_whole && expect_eq 4 "$(on cloud2)"
'

test_expect_success 'bad values of state: EINVAL, nothing changed' '
	for v in drained Drain "drain now" x active2; do
		expect_errno EINVAL write "$C2/state" "$v" || exit 1
	done &&
	expect_eq active "$(cat "$C2/state")" &&
	file_is "$C2/status" up &&
	expect_eq 4 "$(on cloud2)" &&
	expect_errno ENOENT write "$MNT/clouds/nosuch/state" drain
'

test_expect_success 'drain cloud2: gateway, DHCP and the four guests leave it (live where they run, same boots), spread 2 and 2 over cloud1 and cloud3, the subnet home with them; nothing left on cloud2' '
	n0=$(wc -l <"$STATE/maasfs.log") &&
	echo drain >"$C2/state" &&
	expect_eq drain "$(cat "$C2/state")" &&
	expect_eq up "$(head -1 "$C2/status")" &&
	grep -qx "state: drain" "$C2/status" &&
	grep -q "^evacuation: drained: 1 subnet home(s) and 4 VM(s) moved off in [0-9]* ms$" "$C2/status" &&
	! grep -q "^not moved" "$C2/status" &&
	expect_eq 0 "$(on cloud2)" && expect_eq 2 "$(on cloud1)" && expect_eq 2 "$(on cloud3)" &&
	expect_eq cloud1 "$(cat "$W/cloud")" &&
	each_whole && same_boots &&
	tail -n +"$n0" "$STATE/maasfs.log" >"$TMP/mlog" &&
	expect_eq 3 "$(grep -c "live migration from cloud2 to" "$TMP/mlog")" &&
	grep -q "VM $A/g3: cold migration from cloud2 to" "$TMP/mlog" &&
	lab_clean cloud2 &&
	expect_eq "" "$(oncloud cloud2 ls -A /var/lib/maasfs-cloud/disks)"
'

test_expect_success 'a draining cloud takes nothing new (EBUSY, saying why), across a remount; a new VM is placed elsewhere' '
	expect_errno EBUSY write "$V/g0/location" cloud2 &&
	grep -q "cloud cloud2 is draining" "$V/g0/status" &&
	expect_errno EBUSY write "$W/cloud" cloud2 &&
	expect_errno EBUSY write "$MNT/$A/subnets/new" "10.0.2.0/24 name=db cloud=cloud2" &&
	[ ! -d "$MNT/$A/subnets/db" ] &&
	maas_umount && maas_mount -o "config=$LAB_CONFIG" &&
	wait_for 15 file_is "$MNT/clouds/cloud1/status" up &&
	expect_eq drain "$(cat "$C2/state")" &&
	grep -q "^draining: cloud2$" "$STATE/state.yaml" &&
	expect_errno EBUSY write "$V/g1/location" cloud2 &&
	mkdir "$V/g4" && expect_eq cloud1 "$(cat "$V/g4/location")" &&
	rmdir "$V/g4" &&
	echo drain >"$C2/state" &&
	grep -q "^evacuation: drained: 0 subnet home(s) and 0 VM(s)" "$C2/status"
'

test_expect_success 'active again: cloud2 takes the subnet and the guests back (same boots); its status is up alone' '
	back_home &&
	expect_eq active "$(cat "$C2/state")" &&
	file_is "$C2/status" up &&
	! grep -q "^draining:" "$STATE/state.yaml" &&
	same_boots
'

test_expect_success 'cloud3 down: it is passed over, everything goes to cloud1' '
	pidf=/var/lib/maas-lab-$T/cloud3/run-libvirt/libvirtd.pid &&
	kill "$(cat "$pidf")" &&
	wait_for 30 eval "! file_is $MNT/clouds/cloud3/status up" &&
	echo drain >"$C2/state" &&
	expect_eq 4 "$(on cloud1)" &&
	each_whole && same_boots &&
	lab up 3 &&
	wait_for 30 file_is "$MNT/clouds/cloud3/status" up &&
	back_home
'

test_expect_success 'a VM that cannot move (its disk deleted behind maasfs'"'"'s back) is named with its reason, the write fails with its errno, and the rest still move' '
	oncloud cloud2 rm "/var/lib/maasfs-cloud/disks/$(uuid_of g3).qcow2" &&
	"$FSOP" write "$C2/state" drain >"$TMP/w" 2>&1 ;
	expect_eq EIO "$(cat "$TMP/w")" &&
	grep -q "^evacuation: stopped (EIO) after [0-9]* ms: 1 of 1 subnet home(s) and 3 of 4 VM(s) moved" "$C2/status" &&
	grep -q "^not moved: $A/g3: EIO: .*the disk of g3 is missing on cloud cloud2" "$C2/status" &&
	expect_eq 1 "$(grep -c "^not moved" "$C2/status")" &&
	each_whole g0 g1 g2 && same_boots &&
	expect_eq cloud2 "$(cat "$V/g3/location")" &&
	rmdir "$V/g3" &&
	echo drain >"$C2/state" &&
	! grep -q "^not moved" "$C2/status" &&
	VMS="g0 g1 g2" back_home
'

test_expect_success 'Ctrl-C in the middle (a cap of 8 MiB/s): EINTR; each guest whole on one cloud, same boots; cloud2 still drains; drain again finishes' '
	export VMS="g0 g1 g2" &&
	maas_umount && maas_mount -o "config=$LAB_CONFIG,bandwidth=8" &&
	wait_for 15 file_is "$C2/status" up &&
	bg drain &&
	wait_for 60 moving &&
	kill -INT "$BG" && wait "$BG" ;
	expect_eq EINTR "$(cat "$TMP/bg")" &&
	expect_eq drain "$(cat "$C2/state")" &&
	grep -q "^evacuation: stopped (EINTR)" "$C2/status" &&
	each_whole && same_boots &&
	maas_umount && maas_mount -o "config=$LAB_CONFIG" &&
	wait_for 15 file_is "$MNT/clouds/cloud1/status" up &&
	echo drain >"$C2/state" &&
	expect_eq 0 "$(on cloud2)" && each_whole && same_boots &&
	back_home
'

test_expect_success 'maasfs killed -9 in the middle: after the next mount each guest is whole on one cloud (the same boot, or maasfs says it booted anew), cloud2 drains; drain again finishes' '
	export VMS="g0 g1 g2" &&
	maas_umount && maas_mount -o "config=$LAB_CONFIG,bandwidth=8" &&
	wait_for 15 file_is "$C2/status" up &&
	bg drain &&
	wait_for 60 moving &&
	maas_kill9 && wait "$BG" ;
	fusermount3 -uz "$MNT" &&
	maas_mount -o "config=$LAB_CONFIG" &&
	expect_eq drain "$(cat "$C2/state")" &&
	each_whole && same_boots_or_told &&
	echo drain >"$C2/state" &&
	expect_eq 0 "$(on cloud2)" && each_whole && same_boots &&
	wait_for 30 lab_clean cloud2
'

test_expect_success 'everything removed; nothing left' '
	echo active >"$C2/state" &&
	for g in g0 g1 g2; do
		echo stop >"$V/$g/state" && rmdir "$V/$g" || exit 1
	done &&
	rmdir "$W" "$MNT/$A" &&
	for c in $CLOUDS; do lab_clean "$c" || exit 1; done &&
	maas_umount &&
	lab down
'

test_done
