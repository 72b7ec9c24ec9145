#!/usr/bin/env bash
# Parallel moves (issue 19, part 4), on the lab with real guests: a
# subnet's move migrates its VMs several at a time (-o parallel=N, default
# 4), sharing the bandwidth cap. Four guests move at once and come up on
# the target with the same boot; Ctrl-C and kill -9 in the middle leave
# each guest whole on exactly one cloud, running, and writing the cloud
# again finishes the move; a VM that cannot move is named, and the others
# move. Bad values of the option.
# tests/run: busy (guests booting and moving keep the CPUs busy)
. "$(dirname "$0")/lib.sh"

A=${T}a
W=$MNT/$A/subnets/web
V=$MNT/$A/vms
VMS="g0 g1 g2 g3"

# all_on CLOUD: every guest only there, running
all_on() {
	local g
	for g in $VMS; do only_on "$g" "$1" running || return 1; done
}

# each_once: every guest whole on exactly one cloud (its location), running
each_once() {
	local g
	for g in $VMS; do only_on "$g" "$(cat "$V/$g/location")" running || return 1; done
}

# answers_as G: the guest answers with the identity it had at first
# (asked from the subnet's home, where the tenant's namespace is)
answers_as() {
	expect_eq "$(cat "$TMP/id-$1")" "$(lab_ctl "$(cat "$W/cloud")" "$A" "$(vm_ip "$1")" id)"
}

# same_boots: every guest does, within 30 s (a guest that just landed is
# reached once the bridges and the VXLAN learnt where it is now)
same_boots() {
	local g
	for g in $VMS; do
		wait_for 30 answers_as "$g" ||
			tcg_panic "$V/$g" "$TMP/id-$g" "$(lab_ctl "$(cat "$W/cloud")" "$A" "$(vm_ip "$g")" id)" ||
			{ console_tail "$V/$g"; return 1; }
	done
}

# gone_from CLOUD: nothing of the subnet there (bridge, VXLAN, host veth,
# DHCP), no domain, no disk (the tenant's namespace may stay)
gone_from() {
	local v
	v=$(cat "$W/vni") &&
	! oncloud "$1" ip link show "maasb$v" 2>/dev/null &&
	! oncloud "$1" ip link show "maasx$v" 2>/dev/null &&
	! oncloud "$1" ip link show "maash$v" 2>/dev/null &&
	! oncloud "$1" test -e "/var/lib/maasfs-cloud/agent/dhcp/$v.pid" &&
	expect_eq "" "$(domains_on "$1")" &&
	expect_eq "" "$(oncloud "$1" ls /var/lib/maasfs-cloud/disks)"
}

# bg VALUE: a write of VALUE to the subnet's cloud in the background
bg() {
	"$FSOP" write "$W/cloud" "$1" >"$TMP/bg" 2>&1 &
	BG=$!
}

moving() { grep -q "^move: moving to .*, 4 at a time" "$W/status" && grep -q "^phase: transfer$" "$V/g0/migration"; }

test_expect_success 'bad parallel= values: the mount refuses them' '
	mkdir -p "$TMP/badmnt" &&
	for v in 0 17 x -1 04 ""; do
		! timeout 10 "$MAASFS" -f -o "state=$TMP/bad,parallel=$v" "$TMP/badmnt" 2>"$TMP/err" &&
		grep -q "parallel=$v: expected 1 to 16" "$TMP/err" || exit 1
	done &&
	! grep -q "$TMP/badmnt" /proc/mounts
'

test_expect_success 'lab, mount; subnet web on cloud1 with four running guests' '
	lab_up 2 &&
	maas_mount -o "config=$LAB_CONFIG" &&
	wait_for 15 file_is "$MNT/clouds/cloud2/status" up &&
	mkdir "$MNT/$A" &&
	echo "10.0.1.0/24 name=web cloud=cloud1" >"$MNT/$A/subnets/new" &&
	for g in $VMS; do
		mkdir "$V/$g" && echo 128M >"$V/$g/memory" && echo 64M >"$V/$g/disk" &&
		echo start >"$V/$g/state" || exit 1
	done &&
	for g in $VMS; do
		wait_console 120 "$V/$g/console" "maas-tiny id=.* ip=$(vm_ip $g)" &&
		lab_ctl cloud1 "$A" "$(vm_ip $g)" id >"$TMP/id-$g" &&
		grep -q "boots=1$" "$TMP/id-$g" || exit 1
	done
'

test_expect_success 'the subnet to cloud2: its four guests migrate at once (all four begin before the first lands), same boots; cloud1 keeps nothing' '
	n0=$(wc -l <"$STATE/maasfs.log") &&
	echo cloud2 >"$W/cloud" &&
	all_on cloud2 && same_boots &&
	grep -q "^move: moved from cloud1 to cloud2 with 4 VM(s)" "$W/status" &&
	tail -n +"$n0" "$STATE/maasfs.log" >"$TMP/mlog" &&
	first=$(grep -n "now on cloud2" "$TMP/mlog" | head -1 | cut -d: -f1) &&
	expect_eq 4 "$(head -n "$first" "$TMP/mlog" | grep -c "live migration from cloud1 to cloud2")" &&
	expect_eq "cloud2" "$(cat "$W/clouds" | xargs)" &&
	gone_from cloud1
'

test_expect_success 'under a cap of 8 MiB/s the four share it (2 MiB/s each); Ctrl-C in the middle: EINTR; each guest whole on one cloud, running, same boot; the status names those not there; writing again finishes' '
	maas_umount && maas_mount -o "config=$LAB_CONFIG,bandwidth=8" &&
	wait_for 15 file_is "$MNT/clouds/cloud1/status" up &&
	n0=$(wc -l <"$STATE/maasfs.log") &&
	bg cloud1 &&
	wait_for 60 moving &&
	tail -n +"$n0" "$STATE/maasfs.log" >"$TMP/mlog" &&
	expect_eq 4 "$(grep -c "live migration from cloud2 to cloud1.*, cap 2 MiB/s" "$TMP/mlog")" &&
	kill -INT "$BG" && wait "$BG" ;
	expect_eq EINTR "$(cat "$TMP/bg")" &&
	each_once && same_boots &&
	grep -q "^move: move to cloud1 stopped (EINTR); not there yet:" "$W/status" &&
	maas_umount && maas_mount -o "config=$LAB_CONFIG" &&
	wait_for 15 file_is "$MNT/clouds/cloud2/status" up &&
	echo cloud1 >"$W/cloud" &&
	all_on cloud1 && same_boots &&
	gone_from cloud2
'

test_expect_success 'maasfs killed -9 in the middle: after the next mount each guest is whole on one cloud, running; writing again finishes' '
	maas_umount && maas_mount -o "config=$LAB_CONFIG,bandwidth=8" &&
	wait_for 15 file_is "$MNT/clouds/cloud2/status" up &&
	bg cloud2 &&
	wait_for 60 moving &&
	maas_kill9 && wait "$BG" ;
	fusermount3 -uz "$MNT" &&
	maas_mount -o "config=$LAB_CONFIG" &&
	each_once && same_boots &&
	echo cloud2 >"$W/cloud" &&
	all_on cloud2 && same_boots &&
	wait_for 30 gone_from cloud1
'

test_expect_success 'a VM that cannot move (stopped, its disk deleted behind maasfs'"'"'s back) fails the write with its reason and reads error; the three others move all the same' '
	echo stop >"$V/g3/state" &&
	oncloud cloud2 rm "/var/lib/maasfs-cloud/disks/$(uuid_of g3).qcow2" &&
	"$FSOP" write "$W/cloud" cloud1 >"$TMP/w" 2>&1 ;
	! grep -qx OK "$TMP/w" &&
	grep -q "^move: move to cloud1 stopped (E[A-Z]*); not there yet: g3$" "$W/status" &&
	grep -q "VM g3 did not move" "$STATE/maasfs.log" &&
	for g in g0 g1 g2; do only_on "$g" cloud1 running || exit 1; done &&
	for g in g0 g1 g2; do
		expect_eq "$(cat "$TMP/id-$g")" "$(lab_ctl cloud1 "$A" "$(vm_ip "$g")" id)" || exit 1
	done &&
	expect_eq cloud2 "$(cat "$V/g3/location")" &&
	expect_eq error "$(cat "$V/g3/state")" &&
	grep -q "the disk of g3 is missing on cloud cloud2" "$W/status" "$V/g3/migration" &&
	rmdir "$V/g3"
'

test_expect_success 'everything removed; nothing left' '
	for g in g0 g1 g2; do
		echo stop >"$V/$g/state" && rmdir "$V/$g" || exit 1
	done &&
	rmdir "$W" "$MNT/$A" &&
	lab_clean cloud1 && lab_clean cloud2 &&
	maas_umount &&
	lab down
'

test_done
