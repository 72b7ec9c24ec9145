#!/usr/bin/env bash
# Test launches (issue 19, part 1), on the lab with a real guest: a write
# of a cloud's name to a VM's test boots a clone of it there, from its disk
# as it was at that moment (libvirt's backup job: the guest runs on), with
# the same MAC and address in a network of its own (its own VNI, bridge,
# namespace maas-_test-VNI and dnsmasq, no VXLAN, no uplink); "end"
# removes every trace of it. The VM itself sees nothing: the same boot.
# Bad input, the target down, Ctrl-C and kill -9 in the launch, kill -9
# while a test is up.
# tests/run: busy (guests booting and moving keep the CPUs busy)
. "$(dirname "$0")/lib.sh"

A=${T}a
V=$MNT/$A/vms
TF=$V/vm1/test

# bg VALUE: a write of VALUE to vm1's test in the background (fsop: its
# errno lands in $TMP/bg); BG is its pid.
bg() {
	"$FSOP" write "$TF" "$1" >"$TMP/bg" 2>&1 &
	BG=$!
}

test_field() { sed -n "s/^$1: //p" "$TF"; }
net() { sed -n 's/^namespace: maas-//p' "$TF"; }
vni() { net | sed 's/^_test-//'; }

# clone_id CLOUD: the clone's identity, from its own namespace there
clone_id() { lab_ctl "$1" "$(net)" "$(vm_ip vm1)" id; }

# test_gone CLOUD [VNI UUID]: nothing of a test on the cloud: no test
# network, no clone, no disk but vm1's; none of that VNI and clone
test_gone() {
	! oncloud "$1" ip netns list | grep -q "^maas-_test-" &&
	! oncloud "$1" virsh -c qemu:///system list --all --name | grep -q "^maas:_test-" &&
	[ -z "$(oncloud "$1" ls -A /var/lib/maasfs-cloud/disks | grep -v "^$(uuid_of vm1)\.")" ] &&
	if [ -n "${2:-}" ]; then
		! oncloud "$1" ip -br link | grep -q "^maas[bghx]$2\b" &&
		! oncloud "$1" ls -A /var/lib/maasfs-cloud/disks | grep -q "$3" &&
		! oncloud "$1" sh -c "ls /var/lib/maasfs-cloud/agent/dhcp/$2.pid" 2>/dev/null
	fi
}

# launched CLOUD: the test file says the clone is up there
launched() {
	expect_eq "$1" "$(test_field cloud)" &&
	expect_eq up "$(test_field phase)" &&
	grep -q "^launch: [0-9]* ms$" "$TF" &&
	expect_eq "$(vm_ip vm1)" "$(test_field ip)" &&
	expect_eq running "$(oncloud "$1" virsh -c qemu:///system domstate "maas:$(net):vm1")"
}

same_boot() { expect_eq "$(cat "$TMP/id0")" "$(guest_id vm1)"; }

# at_copy: the launch in the background is copying the disk (or, if it
# never gets there, what the test file, the write and the log said)
at_copy() {
	wait_for 60 grep -q "^step: copy$" "$TF" && return
	echo "--- test: $(tr '\n' ' ' <"$TF"); the write: $(cat "$TMP/bg")"
	grep -E "test_|mounted|EBUSY|EINTR" "$STATE/maasfs.log" | tail -n 12
	return 1
}

test_expect_success 'lab, mount; vm1 runs on cloud1; vm2 never ran' '
	lab_up 2 &&
	maas_mount -o "config=$LAB_CONFIG" &&
	wait_for 15 file_is "$MNT/clouds/cloud2/status" up &&
	mkdir "$MNT/$A" &&
	echo "10.0.1.0/24 name=web cloud=cloud1" >"$MNT/$A/subnets/new" &&
	mkdir "$V/vm1" && echo 128M >"$V/vm1/memory" && echo 64M >"$V/vm1/disk" &&
	echo start >"$V/vm1/state" &&
	wait_console 90 "$V/vm1/console" "maas-tiny id=.* ip=$(vm_ip vm1)" &&
	mkdir "$V/vm2" &&
	guest_id vm1 >"$TMP/id0" && grep -q "boots=1$" "$TMP/id0" &&
	expect_eq none "$(cat "$TF")" &&
	expect_eq "" "$(cat "$V/vm1/test_console")"
'

test_expect_success 'bad input: EINVAL, ENOENT, with the reason; nothing made' '
	for v in "cloud2 x" "../cloud2" "cloud2/x" "-x"; do
		expect_errno EINVAL write "$TF" "$v" || exit 1
	done &&
	grep -q "EINVAL: test takes a cloud.s name (a launch) or end" "$V/vm1/status" &&
	expect_errno ENOENT write "$TF" cloud9 &&
	grep -q "ENOENT: no cloud cloud9" "$V/vm1/status" &&
	expect_errno ENOENT write "$TF" end &&
	grep -q "ENOENT: VM vm1 has no test" "$V/vm1/status" &&
	expect_errno EINVAL write "$V/vm2/test" cloud2 &&
	grep -q "EINVAL: VM vm2 has never run: it has no disk to test" "$V/vm2/status" &&
	expect_errno EINVAL mkdir "$MNT/_test-5" &&
	expect_eq none "$(cat "$TF")" &&
	test_gone cloud2 && ! grep -q "test:" "$STATE/state.yaml"
'

test_expect_success 'a test on cloud2: the clone boots from the disk as it was, same MAC and address, a network of its own; the VM runs on, the same boot' '
	echo cloud2 >"$TF" &&
	launched cloud2 &&
	oncloud cloud2 ip -n "maas-$(net)" -o addr show | grep -q " 10.0.1.1/24 " &&
	oncloud cloud2 ip -br link show "maasb$(vni)" >/dev/null &&
	! oncloud cloud2 ip -br link show "maasx$(vni)" 2>/dev/null &&
	wait_console 60 "$V/vm1/test_console" "maas-tiny id=.* ip=$(vm_ip vm1)" &&
	id=$(sed "s/ boots=.*//" "$TMP/id0") &&
	wait_for 30 eval "clone_id cloud2 >\"\$TMP/clone\" && grep -qx \"$id boots=2\" \"\$TMP/clone\"" &&
	expect_eq "$(cat "$TMP/clone")" "$(clone_id cloud2)" &&
	same_boot &&
	only_on vm1 cloud1 running &&
	oncloud cloud2 virsh -c qemu:///system domiflist "maas:$(net):vm1" | grep -q "maasq.* maasb$(vni) .*$(cat "$V/vm1/mac")" &&
	grep -q "^ *phase: up$" "$STATE/state.yaml"
'

test_expect_success 'while it is up: a second launch is refused (EBUSY)' '
	expect_errno EBUSY write "$TF" cloud1 &&
	grep -q "EBUSY: VM vm1 has a test on cloud cloud2 already" "$V/vm1/status" &&
	launched cloud2
'

test_expect_success 'end: nothing of it is left on cloud2, nor in the state; the VM runs on, the same boot' '
	v=$(vni) && u=$(sed -n "s/^domain: [^ ]* //p" "$TF") &&
	echo end >"$TF" &&
	expect_eq none "$(cat "$TF")" &&
	test_gone cloud2 "$v" "$u" && test_gone cloud1 "$v" "$u" &&
	! grep -q "test:" "$STATE/state.yaml" &&
	same_boot && only_on vm1 cloud1 running
'

test_expect_success 'a test on the VM'"'"'s own cloud: beside it, on a port of its own; each answers in its own network; end' '
	echo cloud1 >"$TF" &&
	launched cloud1 &&
	wait_for 60 eval "clone_id cloud1 | grep -q boots=2" &&
	same_boot &&
	v=$(vni) && u=$(sed -n "s/^domain: [^ ]* //p" "$TF") &&
	echo end >"$TF" &&
	test_gone cloud1 "$v" "$u" && same_boot
'

test_expect_success 'the target'"'"'s libvirtd stopped: EHOSTUNREACH, nothing made' '
	pidf=/var/lib/maas-lab-$T/cloud2/run-libvirt/libvirtd.pid &&
	kill "$(cat "$pidf")" &&
	wait_for 20 eval "! oncloud cloud2 virsh -c qemu:///system version >/dev/null 2>&1" &&
	expect_errno EHOSTUNREACH write "$TF" cloud2 &&
	expect_eq none "$(cat "$TF")" &&
	lab up 2 &&
	wait_for 30 file_is "$MNT/clouds/cloud2/status" up &&
	test_gone cloud2 && ! grep -q "test:" "$STATE/state.yaml"
'

test_expect_success 'Ctrl-C while its disk is sent (1 MiB/s): EINTR, nothing left on either cloud' '
	expect_eq ok "$(lab_ctl cloud1 "$A" "$(vm_ip vm1)" "fill 24")" &&
	maas_umount && maas_mount -o "config=$LAB_CONFIG,bandwidth=1" &&
	bg cloud2 &&
	at_copy &&
	kill -INT "$BG" && wait "$BG" ;
	expect_eq EINTR "$(cat "$TMP/bg")" &&
	expect_eq none "$(cat "$TF")" &&
	test_gone cloud2 && test_gone cloud1 &&
	same_boot
'

test_expect_success 'maasfs killed -9 while its disk is sent: the next mount undoes the launch' '
	bg cloud2 &&
	at_copy &&
	grep -q "^ *phase: launch$" "$STATE/state.yaml" &&
	maas_kill9 && wait "$BG" ;
	fusermount3 -uz "$MNT" &&
	maas_mount -o "config=$LAB_CONFIG" &&
	expect_eq none "$(cat "$TF")" &&
	grep -q "a launch cut off undone" "$STATE/maasfs.log" &&
	test_gone cloud2 && test_gone cloud1 &&
	! grep -q "test:" "$STATE/state.yaml" &&
	same_boot
'

test_expect_success 'maasfs killed -9 while a test is up: the next mount keeps it, the clone on its first boot' '
	echo cloud2 >"$TF" &&
	wait_for 60 eval "clone_id cloud2 >\"\$TMP/clone\" && grep -q boots=2 \"\$TMP/clone\"" &&
	maas_kill9 && fusermount3 -uz "$MNT" &&
	maas_mount -o "config=$LAB_CONFIG" &&
	launched cloud2 &&
	expect_eq "$(cat "$TMP/clone")" "$(clone_id cloud2)" &&
	v=$(vni) && u=$(sed -n "s/^domain: [^ ]* //p" "$TF") &&
	echo end >"$TF" &&
	test_gone cloud2 "$v" "$u" && same_boot
'

test_expect_success 'a stopped VM: its disk file is copied, the clone boots from it; end' '
	echo stop >"$V/vm1/state" &&
	echo cloud2 >"$TF" &&
	launched cloud2 &&
	id=$(sed "s/ boots=.*//" "$TMP/id0") &&
	wait_for 60 eval "clone_id cloud2 | grep -qx \"$id boots=2\"" &&
	expect_eq "shut off" "$(oncloud cloud1 virsh -c qemu:///system domstate "maas:$A:vm1")" &&
	v=$(vni) && u=$(sed -n "s/^domain: [^ ]* //p" "$TF") &&
	echo end >"$TF" &&
	test_gone cloud2 "$v" "$u" && test_gone cloud1 "$v" "$u"
'

test_expect_success 'everything removed; nothing left on either cloud' '
	rmdir "$V/vm1" "$V/vm2" "$MNT/$A/subnets/web" "$MNT/$A" &&
	lab_clean cloud1 && lab_clean cloud2 &&
	maas_umount
'

test_done
