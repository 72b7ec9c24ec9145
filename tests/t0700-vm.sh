#!/usr/bin/env bash
# VMs: real QEMU guests (the tiny image, under TCG) through a real
# libvirtd, on a real subnet with a real dnsmasq.
# tests/run: alone (it stops the host's libvirtd, which other tests use)
. "$(dirname "$0")/lib.sh"

A=${T}a
V=$MNT/$A/vms/vm1
S=$MNT/$A/subnets/web

test_expect_success 'libvirtd, the tiny image, a mount, a tenant, a subnet' '
	vm_setup &&
	test -s "$STATE/images/tiny.kernel" &&
	maas_mount &&
	mkdir "$MNT/$A" &&
	echo "10.0.1.0/24 name=web" >"$MNT/$A/subnets/new"
'

test_expect_success 'mkdir defines a persistent domain, not started, with defaults' '
	mkdir "$V" &&
	expect_eq "console disk image ip location mac memory migration replication secgroups state status subnet test test_console vcpus xml" \
		"$(ls "$V" | xargs)" &&
	expect_eq "shut off" "$(domstate "$A" vm1)" &&
	virsh -c qemu:///system dominfo "maas:$A:vm1" | grep -q "Persistent: *yes" &&
	expect_eq web "$(cat "$V/subnet")" &&
	expect_eq 1 "$(cat "$V/vcpus")" &&
	expect_eq 256M "$(cat "$V/memory")" &&
	expect_eq 1G "$(cat "$V/disk")" &&
	expect_eq tiny "$(cat "$V/image")" &&
	expect_eq stopped "$(cat "$V/state")" &&
	expect_eq local "$(cat "$V/location")" &&
	cat "$V/mac" | grep -qx "52:54:00:[0-9a-f][0-9a-f]:[0-9a-f][0-9a-f]:[0-9a-f][0-9a-f]" &&
	ip_in_range "$(cat "$V/ip")" 10.0.1.10 10.0.1.250 &&
	uuid=$(virsh -c qemu:///system domuuid "maas:$A:vm1") &&
	grep -q "<uuid>$uuid</uuid>" "$V/xml" &&
	grep -q "<source bridge=.$(cat "$S/bridge")./>" "$V/xml" &&
	grep -q "<mac address=.$(cat "$V/mac")./>" "$V/xml" &&
	grep -q "^      vm1:" "$STATE/state.yaml"
'

test_expect_success 'the reservation is in dnsmasq and DNS answers by name' '
	expect_eq "$(cat "$V/mac") $(cat "$V/ip") vm1" "$(cat "$S/dhcp/hosts")" &&
	ip netns exec "maas-$A" busybox nslookup "vm1.${A}.maas" 10.0.1.1 >"$TMP/ns" &&
	grep -q "Address: *$(cat "$V/ip")" "$TMP/ns"
'

test_expect_success 'start: running in libvirt; the console shows its id and the reserved ip' '
	echo 128M >"$V/memory" &&
	echo start >"$V/state" &&
	expect_eq running "$(cat "$V/state")" &&
	expect_eq running "$(domstate "$A" vm1)" &&
	wait_console 90 "$V/console" "maas-tiny id=.* boots=1 ip=$(cat "$V/ip")" &&
	grep -o "maas-tiny id=[0-9a-f]*" "$V/console" | head -n1 >"$TMP/id" &&
	test -s "$TMP/id" &&
	ls "$STATE/disks" | grep -q "\.qcow2$"
'

test_expect_success 'the lease is in dhcp/leases; the guest answers ping' '
	grep -q " $(cat "$V/mac") $(cat "$V/ip") " "$S/dhcp/leases" &&
	ip netns exec "maas-$A" busybox ping -c 1 -W 3 "$(cat "$V/ip")"
'

test_expect_success 'bad inputs: their errno, and nothing changes' '
	cp "$STATE/state.yaml" "$TMP/before" &&
	virsh -c qemu:///system dumpxml --inactive "maas:$A:vm1" >"$TMP/x.before" &&
	expect_errno EINVAL write "$V/vcpus" 0 &&
	expect_errno EINVAL write "$V/vcpus" 1000 &&
	expect_errno EINVAL write "$V/vcpus" abc &&
	expect_errno EINVAL write "$V/memory" abc &&
	expect_errno EINVAL write "$V/memory" 5M &&
	expect_errno EINVAL write "$V/disk" 512M &&
	expect_errno ENOENT write "$V/subnet" nosuch &&
	expect_errno ENOENT write "$V/image" nosuch &&
	expect_errno EINVAL write "$V/image" "../../etc/passwd" &&
	expect_errno EINVAL write "$V/state" reboot &&
	expect_errno ENOENT write "$V/location" mars &&
	expect_errno EACCES write "$V/mac" 52:54:00:00:00:01 &&
	expect_errno EACCES write "$V/ip" 10.0.1.99 &&
	expect_errno EBUSY write "$V/disk" 2G &&
	expect_errno EBUSY write "$V/vcpus" 2 &&
	expect_errno EBUSY write "$V/memory" 512M &&
	expect_errno EBUSY rmdir "$V" &&
	expect_errno EBUSY rmdir "$S" &&
	expect_errno ENOTEMPTY rmdir "$MNT/$A" &&
	grep -q "rmdir vm1: EBUSY: VM vm1 is running: stop it first" "$V/status" &&
	cmp "$TMP/before" "$STATE/state.yaml" &&
	virsh -c qemu:///system dumpxml --inactive "maas:$A:vm1" >"$TMP/x.after" &&
	diff "$TMP/x.before" "$TMP/x.after" &&
	expect_eq running "$(domstate "$A" vm1)"
'

test_expect_success 'stop; start again: same id, boots incremented' '
	echo stop >"$V/state" &&
	expect_eq stopped "$(cat "$V/state")" &&
	expect_eq "shut off" "$(domstate "$A" vm1)" &&
	grep -q "power button, powering off" "$V/console" &&
	echo 2G >"$V/disk" &&
	echo start >"$V/state" &&
	wait_console 90 "$V/console" "boots=2 ip=$(cat "$V/ip")" &&
	grep "boots=2" "$V/console" | grep -q "$(cat "$TMP/id")"
'

test_expect_success 'a guest that powers off by itself reads stopped' '
	guest_ctl "$A" "$(cat "$V/ip")" poweroff | grep -q ok &&
	wait_for 30 file_is "$V/state" stopped &&
	expect_eq "shut off" "$(domstate "$A" vm1)" &&
	grep -A8 "^      vm1:" "$STATE/state.yaml" | grep -q "state: stopped"
'

test_expect_success 'kill -9 of maasfs and a new mount leave a running guest alone' '
	echo start >"$V/state" &&
	wait_console 90 "$V/console" "boots=3" &&
	qpid=$(qemu_pid "$A" vm1) && test -n "$qpid" &&
	lines=$(grep -c "maas-tiny id=" "$V/console") &&
	(cd "$MNT" && find . | sort | grep -v "/console$\|/leases$") >"$TMP/tree.before" &&
	for f in state ip mac subnet memory disk xml; do cat "$V/$f"; done >"$TMP/vals.before" &&
	maas_kill9 &&
	expect_eq running "$(domstate "$A" vm1)" &&
	maas_mount &&
	expect_eq "$qpid" "$(qemu_pid "$A" vm1)" &&
	(cd "$MNT" && find . | sort | grep -v "/console$\|/leases$") >"$TMP/tree.after" &&
	diff "$TMP/tree.before" "$TMP/tree.after" &&
	for f in state ip mac subnet memory disk xml; do cat "$V/$f"; done >"$TMP/vals.after" &&
	diff "$TMP/vals.before" "$TMP/vals.after" &&
	expect_eq "$lines" "$(grep -c "maas-tiny id=" "$V/console")" &&
	ip netns exec "maas-$A" busybox ping -c 1 -W 3 "$(cat "$V/ip")"
'

test_expect_success 'libvirtd stopped: a clear error, nothing half-made' '
	lpid=$(cat /run/libvirtd.pid) && test -n "$lpid" &&
	kill "$lpid" && wait_for 30 not_running "$lpid" &&
	cp "$STATE/state.yaml" "$TMP/before" &&
	expect_errno EHOSTUNREACH mkdir "$MNT/$A/vms/vm2" &&
	grep -q "mkdir vm2: EHOSTUNREACH: cloud local: cannot connect to libvirt" \
		"$MNT/$A/status" &&
	! test -e "$MNT/$A/vms/vm2" &&
	cmp "$TMP/before" "$STATE/state.yaml" &&
	expect_eq "$(cat "$V/mac") $(cat "$V/ip") vm1" "$(cat "$S/dhcp/hosts")"
'

test_expect_success 'libvirtd back: maasfs reconnects by itself' '
	"$ROOT/examples/lab/lab" libvirtd &&
	wait_for 30 grep -q "connected to qemu:///system" "$STATE/maasfs.log" &&
	expect_eq running "$(cat "$V/state")" &&
	mkdir "$MNT/$A/vms/vm2" &&
	expect_eq "shut off" "$(domstate "$A" vm2)" &&
	rmdir "$MNT/$A/vms/vm2" &&
	! virsh -c qemu:///system dominfo "maas:$A:vm2" 2>/dev/null
'

test_expect_success 'a domain missing from libvirt is redefined at mount' '
	echo stop >"$V/state" &&
	maas_umount &&
	virsh -c qemu:///system undefine "maas:$A:vm1" &&
	! virsh -c qemu:///system dominfo "maas:$A:vm1" 2>/dev/null &&
	maas_mount &&
	expect_eq "shut off" "$(domstate "$A" vm1)" &&
	expect_eq stopped "$(cat "$V/state")" &&
	grep -q "made$" "$V/status"
'

test_expect_success 'rmdir undefines and deletes the disk; the reservation goes' '
	rmdir "$V" &&
	! test -e "$V" &&
	! virsh -c qemu:///system dominfo "maas:$A:vm1" 2>/dev/null &&
	expect_eq "" "$(ls "$STATE/disks")" &&
	expect_eq "" "$(cat "$S/dhcp/hosts")" &&
	! ip netns exec "maas-$A" busybox nslookup "vm1.${A}.maas" 10.0.1.1 >/dev/null 2>&1
'

test_expect_success 'deleting everything leaves nothing behind' '
	rmdir "$S" "$MNT/$A" &&
	assert_clean &&
	maas_umount &&
	! virsh -c qemu:///system pool-list --name | grep -q "^maasfs-" ||
		! virsh -c qemu:///system pool-list --name | xargs -r -n1 \
			virsh -c qemu:///system pool-dumpxml | grep -q "$TMP"
'

test_done
