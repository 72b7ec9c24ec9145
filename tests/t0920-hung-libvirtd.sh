#!/usr/bin/env bash
# A hypervisor that stops answering (cloud2's libvirtd stopped with
# SIGSTOP: its socket still accepts, nothing answers) holds up neither the
# mount nor the other cloud: cloud2 reads "down: why", its operations fail
# within a bounded time (EHOSTUNREACH or ETIMEDOUT), and it comes back by
# itself once libvirtd answers again.
. "$(dirname "$0")/lib.sh"

A=${T}a
V=$MNT/$A/vms

libvirtd_of() {
	cat "/var/lib/maas-lab-$T/$1/run-libvirt/libvirtd.pid"
}

# Whatever happens, cloud2's libvirtd is let go again (steps run in
# subshells: the pid stopped is kept in a file).
stop_libvirtd() {
	libvirtd_of "$1" >"$TMP/stopped" && kill -STOP "$(cat "$TMP/stopped")"
}
resume() {
	[ ! -s "$TMP/stopped" ] || kill -CONT "$(cat "$TMP/stopped")" 2>/dev/null
	rm -f "$TMP/stopped"
}
trap 'resume; test_cleanup' EXIT
trap 'exit 143' INT TERM

# within CMD...: CMD, given 60 s at most (a hang is a failure, not a
# wait).
within() {
	timeout 60 "$@"
}

test_expect_success 'the lab, a tenant, a subnet, a VM on each cloud' '
	lab_up 2 >/dev/null &&
	maas_mount -o config="$LAB_CONFIG" &&
	mkdir "$MNT/$A" &&
	echo "10.0.1.0/24 name=web cloud=cloud1" >"$MNT/$A/subnets/new" &&
	mkdir "$V/vm1" "$V/vm2" &&
	echo 128M >"$V/vm1/memory" && echo 128M >"$V/vm2/memory" &&
	echo cloud2 >"$V/vm2/location" &&
	expect_eq up "$(cat "$MNT/clouds/cloud2/status")"
'

test_expect_success 'cloud2 libvirtd stopped: its operations fail in bounded time' '
	stop_libvirtd cloud2 &&
	got=$(within "$FSOP" write "$V/vm2/state" start 2>/dev/null) || true &&
	echo "start on cloud2: $got" &&
	case "$got" in EHOSTUNREACH|ETIMEDOUT) ;; *) false ;; esac &&
	grep -q "last error: .*write state: \(EHOSTUNREACH\|ETIMEDOUT\)" \
		"$V/vm2/status" &&
	expect_eq stopped "$(cat "$V/vm2/state")"
'

test_expect_success 'cloud2 reads down with the reason; cloud1 is up' '
	wait_for 30 grep -q "^down: .*libvirt" "$MNT/clouds/cloud2/status" &&
	cat "$MNT/clouds/cloud2/status" &&
	expect_eq up "$(cat "$MNT/clouds/cloud1/status")"
'

test_expect_success 'meanwhile cloud1 works: its VM starts, files read' '
	within "$FSOP" write "$V/vm1/state" start >/dev/null &&
	expect_eq running "$(cat "$V/vm1/state")" &&
	expect_eq running "$(oncloud cloud1 virsh -c qemu:///system domstate "maas:$A:vm1")" &&
	within cat "$V/vm2/state" "$V/vm2/status" "$MNT/spec.yaml" >/dev/null &&
	got=$(within "$FSOP" write "$V/vm2/memory" 256M 2>/dev/null) || true &&
	echo "memory on cloud2: $got" &&
	case "$got" in OK|EHOSTUNREACH|ETIMEDOUT) ;; *) false ;; esac
'

test_expect_success 'a mount while cloud2 hangs: it mounts, cloud2 down, cloud1 right' '
	maas_umount &&
	within "$MAASFS" -o "state=$STATE,vni=$VNI_FIRST-$VNI_LAST,config=$LAB_CONFIG" "$MNT" &&
	mountpoint -q "$MNT" &&
	expect_eq running "$(cat "$V/vm1/state")" &&
	expect_eq cloud2 "$(cat "$V/vm2/location")" &&
	wait_for 30 grep -q "^down: " "$MNT/clouds/cloud2/status" &&
	expect_eq up "$(cat "$MNT/clouds/cloud1/status")"
'

test_expect_success 'libvirtd answers again: cloud2 comes back by itself' '
	resume &&
	wait_for 30 file_is "$MNT/clouds/cloud2/status" up &&
	within "$FSOP" write "$V/vm2/state" start >/dev/null &&
	expect_eq running "$(oncloud cloud2 virsh -c qemu:///system domstate "maas:$A:vm2")"
'

test_expect_success 'everything removed, nothing left on either cloud' '
	echo stop >"$V/vm1/state" && echo stop >"$V/vm2/state" &&
	rmdir "$V/vm1" "$V/vm2" "$MNT/$A/subnets/web" "$MNT/$A" &&
	lab_clean cloud1 && lab_clean cloud2 && maas_umount
'

test_done
