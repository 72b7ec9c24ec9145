#!/usr/bin/env bash
# The mount: options, the root of the tree, the state directory, unmount.
. "$(dirname "$0")/lib.sh"

test_expect_success '--version names maasfs and its six libraries' '
	"$MAASFS" --version >"$TMP/v" &&
	grep -q "^maasfs [0-9]" "$TMP/v" &&
	for lib in libfuse libnl libvirt libyaml libssh; do
		grep -q "$lib [0-9]" "$TMP/v" || exit 1
	done
'

test_expect_success '--help shows the maasfs and FUSE options' '
	"$MAASFS" --help >"$TMP/h" &&
	grep -q "config=FILE" "$TMP/h" &&
	grep -q "state=DIR" "$TMP/h" &&
	grep -q "fusermount3 -u" "$TMP/h" &&
	grep -q -- "-o allow_other" "$TMP/h"
'

test_expect_success 'bad options are refused before mounting' '
	! "$MAASFS" -o state=$STATE,vni=9-3 "$MNT" 2>"$TMP/e" &&
	grep -q "vni=9-3" "$TMP/e" &&
	! "$MAASFS" -o state=relative/../x\;y "$MNT" 2>"$TMP/e" &&
	! mountpoint -q "$MNT" &&
	! "$MAASFS" -o state=$STATE 2>"$TMP/e" &&
	grep -q "no mountpoint" "$TMP/e"
'

test_expect_success 'a bad clouds file is refused with its line' '
	printf "clouds:\n  c1: {accel: fast}\n" >"$TMP/clouds.yaml" &&
	! "$MAASFS" -o state=$STATE,config=$TMP/clouds.yaml "$MNT" 2>"$TMP/e" &&
	grep -q "clouds.yaml:2:15: cloud c1: accel must be kvm, tcg or auto" "$TMP/e" &&
	! mountpoint -q "$MNT"
'

test_expect_success 'mount shows clouds/local and makes the state directory' '
	maas_mount &&
	grep -q " $MNT fuse.maasfs " /proc/mounts &&
	expect_eq "clouds events plan spec.yaml status topology.dot" "$(ls "$MNT" | xargs)" &&
	expect_eq "local" "$(ls "$MNT/clouds")" &&
	expect_eq "external state status uri vms vtep" "$(ls "$MNT/clouds/local" | xargs)" &&
	expect_eq active "$(cat "$MNT/clouds/local/state")" &&
	expect_eq none "$(cat "$MNT/clouds/local/external")" &&
	expect_eq "up" "$(cat "$MNT/clouds/local/status")" &&
	expect_eq "qemu:///system" "$(cat "$MNT/clouds/local/uri")" &&
	test -s "$STATE/state.yaml" &&
	grep -q "^tenants: {}" "$STATE/state.yaml" &&
	tail -n1 "$STATE/state.yaml" | grep -qx "\.\.\."
'

test_expect_success 'st_size is what a read returns; modes follow r/rw/w' '
	for f in external state status uri vms vtep; do
		expect_eq "$(stat -c %s "$MNT/clouds/local/$f")" \
			"$(cat "$MNT/clouds/local/$f" | wc -c)" "$f size" || exit 1
	done &&
	expect_eq "-r--r--r--" "$(stat -c %A "$MNT/clouds/local/uri")"
'

test_expect_success 'a second maasfs on the same state directory is refused' '
	mkdir -p "$TMP/mnt2" &&
	! "$MAASFS" -o state=$STATE "$TMP/mnt2" 2>"$TMP/e" &&
	grep -q "another maasfs is using $STATE" "$TMP/e" &&
	! mountpoint -q "$TMP/mnt2"
'

test_expect_success 'attributes cannot be made, renamed or chmod-ed; a scratch file can' '
	expect_ok create "$MNT/newfile" &&
	expect_eq "newfile" "$(ls "$MNT" | grep newfile)" &&
	expect_ok unlink "$MNT/newfile" &&
	! ls "$MNT" | grep -q newfile &&
	expect_errno EEXIST create "$MNT/status" &&
	expect_errno ENOENT create "$MNT/nosuch/newfile" &&
	expect_errno EPERM mkdir "$MNT/clouds/other" &&
	expect_errno EPERM rmdir "$MNT/clouds" &&
	expect_errno EPERM rename "$MNT/clouds/local/uri" "$MNT/clouds/local/x" &&
	expect_errno EPERM chmod "$MNT/clouds/local/uri" &&
	expect_errno EACCES write "$MNT/clouds/local/uri" "x"
'

test_expect_success 'unmount leaves the state and no process behind' '
	pid=$(maas_pid) &&
	maas_umount &&
	! mountpoint -q "$MNT" &&
	not_running "$pid" &&
	test -s "$STATE/state.yaml"
'

# Process PID is in a mount namespace not this one.
ns_other() { [ "$(readlink "/proc/$1/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ]; }

# A mount namespace made while maasfs is mounted (a container started, a
# long ip netns exec) has a copy of the mount, and the kernel ends the
# FUSE connection only when every copy is gone.
test_expect_success 'an unmount ends maasfs even while another mount namespace keeps a copy' '
	ctl=0; mountpoint -q /sys/fs/fuse/connections && ctl=1;
	maas_mount && pid=$(maas_pid) &&
	{ unshare --mount --propagation private sleep 60 & } &&
	holder=$! &&
	wait_for 5 ns_other "$holder" &&
	grep -q " $MNT " "/proc/$holder/mountinfo" &&
	maas_umount &&
	not_running "$pid" &&
	grep -q "another mount namespace kept a copy of the mount: its connection aborted" "$STATE/maasfs.log" &&
	! nsenter --mount="/proc/$holder/ns/mnt" ls "$MNT/clouds" 2>"$TMP/e" &&
	grep -q "Transport endpoint is not connected" "$TMP/e";
	r=$?; kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null
	# maasfs mounted fusectl where systemd would have: as it was
	[ "$ctl" = 1 ] || umount /sys/fs/fuse/connections 2>/dev/null
	exit $r
'

test_expect_success 'after kill -9, a new mount clears the dead one' '
	maas_mount &&
	maas_kill9 &&
	! ls "$MNT" 2>"$TMP/e" &&
	grep -q "Transport endpoint is not connected" "$TMP/e" &&
	maas_mount &&
	expect_eq "clouds events plan spec.yaml status topology.dot" "$(ls "$MNT" | xargs)" &&
	maas_umount
'

test_expect_success 'in the foreground with -f it logs to stderr' '
	"$MAASFS" -f -o state=$STATE,vni=$VNI_FIRST-$VNI_LAST "$MNT" 2>"$TMP/fg" &
	wait_for 10 mountpoint -q "$MNT" &&
	mkdir "$MNT/${T}a" &&
	rmdir "$MNT/${T}a" &&
	maas_umount &&
	wait_for 10 grep -q "unmounted $MNT" "$TMP/fg" &&
	grep -q "tenant ${T}a created" "$TMP/fg"
'

test_done
