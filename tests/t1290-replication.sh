#!/usr/bin/env bash
# Continuous replication (issue 19, part 2), on the lab with a real guest:
# a write of a cloud's name to a VM's replication copies its disk there
# while it runs (the seed), then a cycle a second sends only the blocks
# changed (libvirt checkpoints and pull-mode backup, the blocks read over
# NBD, written into the replica by qemu-nbd, read back and checked); a
# move of the VM to that cloud is a cutover: paused, the last cycle, booted
# there from the replica, its data whole. Bad input, the target down,
# Ctrl-C in the seed, kill -9 in a cycle, stop.
# tests/run: busy (guests booting and moving keep the CPUs busy)
. "$(dirname "$0")/lib.sh"

A=${T}a
V=$MNT/$A/vms
RF=$V/vm1/replication
DISKS=/var/lib/maasfs-cloud/disks

bg() {
	"$FSOP" write "$RF" "$1" >"$TMP/bg" 2>&1 &
	BG=$!
}

field() { sed -n "s/^$1: //p" "$RF"; }
ckpts() { oncloud cloud1 virsh -c qemu:///system checkpoint-list "maas:$A:vm1" --name | grep . || true; }
replica() { oncloud cloud2 test -e "$DISKS/$(cat "$TMP/uuid").qcow2"; }
cycle_dir() { oncloud cloud1 ls -A "$DISKS" | grep -q "^\.repl-"; }
ctl() { lab_ctl "$(cat "$MNT/$A/subnets/web/cloud")" "$A" "$(vm_ip vm1)" "$1"; }
same_boot() { expect_eq "$(cat "$TMP/id0")" "$(guest_id vm1)"; }
# vm1 runs on cloud1 and has no domain on cloud2 (where its replica is)
on_cloud1() {
	expect_eq cloud1 "$(cat "$V/vm1/location")" &&
	expect_eq running "$(oncloud cloud1 virsh -c qemu:///system domstate "maas:$A:vm1")" &&
	! domains_on cloud2 | grep -qx "maas:$A:vm1"
}
cycles() { field cycles; }
# caught up, between cycles: nothing changed since the replica's
# checkpoint, which is the only one, and no cycle's folder
settled() {
	grep -q "^lag: 0 bytes" "$RF" && [ "$(ckpts | wc -l)" = 1 ] && ! cycle_dir
}

# nothing of a replication: no replica on cloud2, no checkpoint, no
# cycle's folder on cloud1, no record
repl_gone() {
	expect_eq none "$(cat "$RF")" &&
	! replica && [ -z "$(ckpts)" ] && ! cycle_dir &&
	! grep -q "replication:" "$STATE/state.yaml"
}

test_expect_success 'lab, mount; vm1 runs on cloud1 (a 256 MiB disk); vm2 never ran' '
	lab_up 2 &&
	maas_mount -o "config=$LAB_CONFIG" &&
	wait_for 15 file_is "$MNT/clouds/cloud2/status" up &&
	mkdir "$MNT/$A" &&
	echo "10.0.1.0/24 name=web cloud=cloud1" >"$MNT/$A/subnets/new" &&
	mkdir "$V/vm1" && echo 128M >"$V/vm1/memory" && echo 256M >"$V/vm1/disk" &&
	echo start >"$V/vm1/state" &&
	wait_console 90 "$V/vm1/console" "maas-tiny id=.* ip=$(vm_ip vm1)" &&
	mkdir "$V/vm2" &&
	uuid_of vm1 >"$TMP/uuid" &&
	guest_id vm1 >"$TMP/id0" && grep -q "boots=1$" "$TMP/id0" &&
	repl_gone
'

test_expect_success 'bad input: EINVAL, ENOENT, with the reason; nothing made' '
	for v in "cloud2 x" "cloud2 interval=0" "cloud2 interval=x" "cloud2 interval=86401" "../cloud2" "-x"; do
		expect_errno EINVAL write "$RF" "$v" || exit 1
	done &&
	grep -q "EINVAL: replication takes \"CLOUD \[interval=SECONDS\]\"" "$V/vm1/status" &&
	expect_errno ENOENT write "$RF" cloud9 &&
	grep -q "ENOENT: no cloud cloud9" "$V/vm1/status" &&
	expect_errno ENOENT write "$RF" stop &&
	grep -q "ENOENT: VM vm1 has no replication" "$V/vm1/status" &&
	expect_errno EINVAL write "$RF" cloud1 &&
	grep -q "EINVAL: VM vm1 is on cloud cloud1" "$V/vm1/status" &&
	expect_errno EINVAL write "$V/vm2/replication" cloud2 &&
	grep -q "EINVAL: VM vm2 has never run" "$V/vm2/status" &&
	repl_gone
'

test_expect_success 'maasfs makes qcow2 disks of version 3; one of version 2 (as an earlier maasfs made them) cannot hold a checkpoint: EOPNOTSUPP with the remedy, nothing made; amended back to 1.1, the VM started again' '
	disk="$DISKS/$(cat "$TMP/uuid").qcow2" &&
	oncloud cloud1 qemu-img info -U "$disk" | grep -q "compat: 1.1" &&
	echo stop >"$V/vm1/state" &&
	oncloud cloud1 qemu-img amend -f qcow2 -o compat=0.10 "$disk" &&
	oncloud cloud1 qemu-img info -U "$disk" | grep -q "compat: 0.10" &&
	echo start >"$V/vm1/state" &&
	wait_for 60 eval "guest_id vm1 >\"\$TMP/id0\" 2>/dev/null && grep -q \"boots=2$\" \"\$TMP/id0\"" &&
	expect_errno EOPNOTSUPP write "$RF" cloud2 &&
	grep -q "EOPNOTSUPP: .*qcow2 of version 2 .*qemu-img amend -o compat=1.1" "$V/vm1/status" &&
	repl_gone &&
	echo stop >"$V/vm1/state" &&
	oncloud cloud1 qemu-img amend -f qcow2 -o compat=1.1 "$disk" &&
	echo start >"$V/vm1/state" &&
	wait_for 60 eval "guest_id vm1 >\"\$TMP/id0\" 2>/dev/null && grep -q \"boots=3$\" \"\$TMP/id0\""
'

test_expect_success 'the target'"'"'s libvirtd stopped: EHOSTUNREACH, nothing made' '
	pidf=/var/lib/maas-lab-$T/cloud2/run-libvirt/libvirtd.pid &&
	kill "$(cat "$pidf")" &&
	wait_for 20 eval "! oncloud cloud2 virsh -c qemu:///system version >/dev/null 2>&1" &&
	expect_errno EHOSTUNREACH write "$RF" cloud2 &&
	lab up 2 &&
	wait_for 30 file_is "$MNT/clouds/cloud2/status" up &&
	repl_gone
'

test_expect_success 'Ctrl-C in the seed (1 MiB/s): EINTR, nothing left on either cloud' '
	expect_eq ok "$(ctl "fill 24")" &&
	maas_umount && maas_mount -o "config=$LAB_CONFIG,bandwidth=1" &&
	bg cloud2 &&
	wait_for 30 cycle_dir &&
	kill -INT "$BG" && wait "$BG" ;
	expect_eq EINTR "$(cat "$TMP/bg")" &&
	repl_gone && same_boot
'

test_expect_success 'the seed: the write returns once the replica is whole; one checkpoint on cloud1, the replica on cloud2; the guest saw nothing' '
	maas_umount && maas_mount -o "config=$LAB_CONFIG" &&
	echo "cloud2 interval=3600" >"$RF" &&
	expect_eq cloud2 "$(field cloud)" &&
	expect_eq "3600 s" "$(field interval)" &&
	grep -q "^replica: 20[0-9-]*T[0-9:]*Z$" "$RF" &&
	expect_eq 1 "$(cycles)" &&
	replica && wait_for 30 settled &&
	grep -q "^ *replication:" "$STATE/state.yaml" &&
	grep -q "^ *checkpoint: $(ckpts)$" "$STATE/state.yaml" &&
	same_boot
'

test_expect_success 'cycles: 16 MiB written in the guest read as lag, then reach the replica in a cycle of their own; the lag falls back to 0' '
	expect_eq ok "$(ctl "fill 16")" &&
	wait_for 10 eval "grep -q \"^lag: 1[6-9][0-9]\{6\} bytes, [0-9]* s$\" \"\$RF\"" &&
	echo "cloud2 interval=1" >"$RF" && expect_eq "1 s" "$(field interval)" &&
	wait_for 30 eval "grep -q \"^last cycle: 1[6-9][0-9]\{6\} bytes\" \"\$RF\"" &&
	[ "$(cycles)" -gt 1 ] &&
	wait_for 30 eval "grep -q \"^lag: 0 bytes, 0 s$\" \"\$RF\"" &&
	wait_for 30 settled &&
	field state | grep -qx "syncing\|cycling" &&
	same_boot
'

test_expect_success 'while it replicates: a live move is refused (EBUSY), with the reason' '
	expect_errno EBUSY write "$V/vm1/location" "cloud2 mode=live" &&
	grep -q "EBUSY: VM vm1 replicates to cloud cloud2: a move there is a cutover" "$V/vm1/status" &&
	expect_eq cloud1 "$(cat "$V/vm1/location")"
'

test_expect_success 'the target down while it replicates: cycles fail and say why (the file, an event); back up, they catch up (an event)' '
	expect_eq running "$(oncloud cloud1 virsh -c qemu:///system domstate "maas:$A:vm1")" &&
	lab sshd cloud2 stop &&
	expect_eq ok "$(ctl "fill 2")" &&
	wait_for 60 eval "expect_eq failing \"\$(field state)\"" &&
	grep -q "^error: " "$RF" &&
	events_now | grep -q " /$A/vms/vm1/replication cycle to cloud2: failed E[A-Z]*: " &&
	lab sshd cloud2 start &&
	wait_for 60 eval "expect_eq syncing \"\$(field state)\"" &&
	events_now | grep -q " /$A/vms/vm1/replication cycle to cloud2: ok again, [0-9]* bytes$" &&
	wait_for 30 settled
'

test_expect_success 'maasfs killed -9 in a cycle (1 MiB/s): the next mount drops the cycle; the replication goes on' '
	maas_umount && maas_mount -o "config=$LAB_CONFIG,bandwidth=1" &&
	expect_eq ok "$(ctl "fill 12")" &&
	wait_for 30 cycle_dir &&
	grep -q "^ *pending: " "$STATE/state.yaml" &&
	maas_kill9 && fusermount3 -uz "$MNT" &&
	maas_mount -o "config=$LAB_CONFIG" &&
	grep -q "a cycle cut off dropped" "$STATE/maasfs.log" &&
	wait_for 60 eval "grep -q \"^last cycle: 1[2-9][0-9]\{6\} bytes\" \"\$RF\"" &&
	wait_for 30 settled &&
	same_boot
'

# cutover_slow: at 1 MiB/s, 8 MiB written since the last cycle, a move to
# cloud2 in the background (BG), once its last cycle runs
cutover_slow() {
	maas_umount && maas_mount -o "config=$LAB_CONFIG,bandwidth=1" &&
	echo "cloud2 interval=3600" >"$RF" &&
	expect_eq ok "$(ctl "fill 8")" &&
	{ "$FSOP" write "$V/vm1/location" cloud2 >"$TMP/bg" 2>&1 & BG=$!; } &&
	wait_for 30 grep -q "^phase: transfer" "$V/vm1/migration" &&
	wait_for 30 cycle_dir
}

test_expect_success 'a cutover to cloud2 while its sshd is down: EHOSTUNREACH; vm1 runs on on cloud1, the same boot' '
	lab sshd cloud2 stop &&
	expect_errno EHOSTUNREACH write "$V/vm1/location" cloud2 &&
	on_cloud1 && same_boot &&
	lab sshd cloud2 start &&
	wait_for 30 file_is "$MNT/clouds/cloud2/status" up &&
	wait_for 60 eval "expect_eq syncing \"\$(field state)\""
'

test_expect_success 'a resize of the replicated disk is refused (EBUSY), with the reason' '
	expect_errno EBUSY write "$V/vm1/disk" 512M &&
	grep -q "EBUSY: VM vm1 replicates to cloud cloud2: its replica has the disk.s size" "$V/vm1/status" &&
	expect_eq 256M "$(cat "$V/vm1/disk")"
'

test_expect_success 'Ctrl-C in the cutover'"'"'s last cycle (1 MiB/s): EINTR; the guest resumed on cloud1 (the same boot); the replication goes on and mends the replica' '
	cutover_slow &&
	kill -INT "$BG" && wait "$BG" ;
	expect_eq EINTR "$(cat "$TMP/bg")" &&
	on_cloud1 && same_boot &&
	expect_eq cloud2 "$(field cloud)" &&
	maas_umount && maas_mount -o "config=$LAB_CONFIG" &&
	echo "cloud2 interval=1" >"$RF" &&
	wait_for 60 settled && field state | grep -qx "syncing\|cycling"
'

test_expect_success 'maasfs killed -9 in the cutover'"'"'s last cycle: the next mount ends the cycle and rolls the move back; the guest resumed on cloud1, the same boot' '
	cutover_slow &&
	maas_kill9 && wait "$BG" ;
	fusermount3 -uz "$MNT" &&
	maas_mount -o "config=$LAB_CONFIG" &&
	grep -q "a cycle cut off dropped" "$STATE/maasfs.log" &&
	on_cloud1 && same_boot &&
	expect_eq cloud2 "$(field cloud)" &&
	wait_for 60 settled
'

test_expect_success 'stop: the replica and the checkpoints go; a new seed' '
	wait_for 30 settled &&
	echo stop >"$RF" &&
	expect_eq none "$(cat "$RF")" &&
	! replica && [ -z "$(ckpts)" ] && ! cycle_dir &&
	! grep -q "replication:" "$STATE/state.yaml" &&
	echo "cloud2 interval=3600" >"$RF" &&
	replica && expect_eq 1 "$(ckpts | wc -l)"
'

test_expect_success 'the cutover: 16 MiB written since the last cycle, then a move to cloud2: paused, the last cycle carries them, booted there from the replica, its data whole' '
	echo "cloud2 interval=3600" >"$RF" && expect_eq "3600 s" "$(field interval)" &&
	expect_eq ok "$(ctl "fill 16")" &&
	ctl "sum 16" >"$TMP/sum" && grep -qx "[0-9a-f]\{64\}" "$TMP/sum" &&
	echo cloud2 >"$V/vm1/location" &&
	only_on vm1 cloud2 running &&
	grep -q "^downtime: [0-9]* ms" "$V/vm1/migration" &&
	grep -q "^bytes: 1[6-9][0-9]\{6\}\b" "$V/vm1/migration" &&
	grep -q "^checksum: the last cycle" "$V/vm1/migration" &&
	expect_eq none "$(cat "$RF")" &&
	! grep -q "replication:" "$STATE/state.yaml" &&
	wait_console 90 "$V/vm1/console" "boots=4 ip=$(vm_ip vm1)" &&
	expect_eq "$(cat "$TMP/sum")" "$(ctl "sum 16")" &&
	! oncloud cloud1 test -e "$DISKS/$(cat "$TMP/uuid").qcow2" &&
	! cycle_dir
'

test_expect_success 'back to cloud1: its disk there, the former replica, is a qcow2 of version 3 too (a replication back seeds); stop: the replica and the checkpoints go' '
	oncloud cloud2 qemu-img info -U "$DISKS/$(cat "$TMP/uuid").qcow2" | grep -q "compat: 1.1" &&
	echo "cloud1 interval=3600" >"$RF" &&
	oncloud cloud1 test -e "$DISKS/$(cat "$TMP/uuid").qcow2" &&
	echo stop >"$RF" &&
	expect_eq none "$(cat "$RF")" &&
	! oncloud cloud1 test -e "$DISKS/$(cat "$TMP/uuid").qcow2" &&
	[ -z "$(oncloud cloud2 virsh -c qemu:///system checkpoint-list "maas:$A:vm1" --name | grep .)" ] &&
	! grep -q "replication:" "$STATE/state.yaml"
'

test_expect_success 'everything removed; nothing left on either cloud' '
	echo stop >"$V/vm1/state" &&
	rmdir "$V/vm1" "$V/vm2" "$MNT/$A/subnets/web" "$MNT/$A" &&
	lab_clean cloud1 && lab_clean cloud2 &&
	maas_umount
'

test_done
