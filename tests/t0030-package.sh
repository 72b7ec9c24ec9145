#!/usr/bin/env bash
# The Debian package, built from the tree (dpkg-buildpackage -b -us -uc):
# installed with dpkg -i, it mounts from an fstab line through mount(8)
# and mount.fuse3, its unit passes systemd-analyze verify and its
# ExecStart mounts and ExecStop unmounts (leaving the data plane up), it
# serves as the agent of a lab cloud that has nothing else of maasfs, and
# dpkg --purge removes every file it brought.
# tests/run: busy (it builds the package; what it installs in /usr no other
# test runs: theirs is the tree's build, their clouds' the tree's install)
. "$(dirname "$0")/lib.sh"

command -v dpkg-buildpackage >/dev/null || skip_all "no dpkg-buildpackage (make deps)"
if dpkg-query -W -f='${Status}' maasfs 2>/dev/null | grep -q "ok installed"; then
	skip_all "a maasfs package is installed on this machine already"
fi

A=${T}a
SRC=$TMP/pkg/maasfs
FSTAB=$TMP/fstab
OPTS="state=$STATE,vni=$VNI_FIRST-$VNI_LAST,config=/etc/maasfs/clouds.yaml"

purge() {
	dpkg --purge maasfs >/dev/null 2>&1 || true
}
trap 'purge; test_cleanup' EXIT

test_expect_success 'dpkg-buildpackage builds the package from the tree' '
	mkdir -p "$SRC" &&
	(cd "$ROOT" && tar --exclude=./.git --exclude="./build*" \
		--exclude=./maasfs --exclude=./debian/maasfs -cf - .) |
		tar -x -C "$SRC" &&
	(cd "$SRC" && dpkg-buildpackage -b -us -uc) >"$TMP/build.out" 2>&1 ||
		{ tail -n 40 "$TMP/build.out"; exit 1; }
	DEB=$(ls "$TMP"/pkg/maasfs_*.deb) && test -s "$DEB" &&
	dpkg-deb -c "$DEB" | awk "{print \$6}" >"$TMP/contents" &&
	for f in ./usr/bin/maasfs ./usr/share/man/man8/maasfs.8.gz \
		 ./usr/share/man/man5/maasfs-clouds.5.gz \
		 ./lib/systemd/system/maasfs.service ./etc/maasfs/clouds.yaml \
		 ./etc/default/maasfs; do
		grep -qx "$f" "$TMP/contents" || { echo "missing $f"; exit 1; }
	done
'

test_expect_success 'dpkg -i: the binary, man pages, conffiles; not enabled, not started' '
	dpkg -i "$TMP"/pkg/maasfs_*.deb >"$TMP/dpkg.out" 2>&1 ||
		{ cat "$TMP/dpkg.out"; exit 1; }
	/usr/bin/maasfs --version | grep -q "^maasfs " &&
	man -w maasfs | grep -q "/usr/share/man/man8/maasfs.8" &&
	man -w 5 maasfs-clouds | grep -q "/usr/share/man/man5/maasfs-clouds.5" &&
	dpkg-query -W -f="\${Conffiles}\n" maasfs >"$TMP/conffiles" &&
	grep -q "/etc/maasfs/clouds.yaml" "$TMP/conffiles" &&
	grep -q "/etc/default/maasfs" "$TMP/conffiles" &&
	! test -e /etc/systemd/system/multi-user.target.wants/maasfs.service &&
	! grep -q " /mnt/maas fuse.maasfs " /proc/mounts &&
	! pgrep -f "state=/var/lib/maasfs" >/dev/null
'

test_expect_success 'systemd-analyze verify: the unit is clean' '
	systemd-analyze verify /lib/systemd/system/maasfs.service \
		>"$TMP/verify" 2>&1 ;
	cat "$TMP/verify" ; test ! -s "$TMP/verify"
'

test_expect_success 'an fstab line: mount MOUNTPOINT, then mount -a' '
	echo "maasfs $MNT fuse.maasfs $OPTS,allow_other,nofail 0 0" >"$FSTAB" &&
	mount -T "$FSTAB" "$MNT" &&
	grep -q " $MNT fuse.maasfs .*allow_other" /proc/mounts &&
	pid=$(maas_pid) && expect_eq /usr/bin/maasfs "$(readlink /proc/$pid/exe)" &&
	mkdir "$MNT/$A" && echo "10.0.1.0/24 name=web" >"$MNT/$A/subnets/new" &&
	dm=$(dnsmasq_pid "$(cat "$MNT/$A/subnets/web/vni")") && test -n "$dm" &&
	umount "$MNT" && wait_for 10 not_running "$pid" &&
	kill -0 "$dm" &&
	mount -a -T "$FSTAB" &&
	mountpoint -q "$MNT" && test -d "$MNT/$A/subnets/web" &&
	expect_eq "$dm" "$(dnsmasq_pid "$(cat "$MNT/$A/subnets/web/vni")")" &&
	umount "$MNT"
'

# The unit's lines as systemd would run them, with the settings of
# /etc/default/maasfs (EnvironmentFile) pointing at this test's mount.
unit_line() {
	sed -n "s/^$1=//p" /lib/systemd/system/maasfs.service
}
unit_run() {
	local line
	line=$(unit_line "$1") && test -n "$line" &&
	(
		set -a
		eval "$(unit_line Environment)"
		. /etc/default/maasfs
		set +a
		eval "$line"
	)
}

test_expect_success 'the unit: ExecStartPre and ExecStart mount, ExecStop unmounts' '
	cp /etc/default/maasfs "$TMP/default.orig" &&
	{ echo "MAASFS_MOUNTPOINT=$MNT"; echo "MAASFS_OPTIONS=$OPTS"; } \
		>>/etc/default/maasfs &&
	unit_run ExecStartPre && unit_run ExecStart &&
	mountpoint -q "$MNT" && pid=$(maas_pid) &&
	expect_eq /usr/bin/maasfs "$(readlink /proc/$pid/exe)" &&
	test -d "$MNT/$A/subnets/web" &&
	dm=$(dnsmasq_pid "$(cat "$MNT/$A/subnets/web/vni")") &&
	unit_run ExecStop &&
	wait_for 10 not_running "$pid" &&
	! mountpoint -q "$MNT" &&
	kill -0 "$dm" && ip netns list | grep -q "^maas-$A\b" &&
	cp "$TMP/default.orig" /etc/default/maasfs
'

test_expect_success 'the package alone is a cloud host: a lab cloud runs its maasfs agent' '
	MAAS_LAB_AGENT=installed lab_up 1 >/dev/null &&
	oncloud cloud1 sh -c "command -v maasfs" | grep -qx /usr/bin/maasfs &&
	STATE=$TMP/state-lab && maas_mount -o config="$LAB_CONFIG" &&
	wait_for 20 file_is "$MNT/clouds/cloud1/status" up &&
	mkdir "$MNT/${T}b" &&
	echo "10.0.2.0/24 name=lan cloud=cloud1" >"$MNT/${T}b/subnets/new" &&
	oncloud cloud1 ip netns list | grep -q "^maas-${T}b\b" &&
	oncloud cloud1 pgrep -f "maasfs agent" >/dev/null &&
	rmdir "$MNT/${T}b/subnets/lan" "$MNT/${T}b" &&
	lab_clean cloud1 && maas_umount && lab down >/dev/null
'

test_expect_success 'dpkg --purge removes every file of the package' '
	dpkg -L maasfs | while read -r f; do
		[ -f "$f" ] && echo "$f"
	done >"$TMP/pkgfiles" &&
	grep -q /usr/bin/maasfs "$TMP/pkgfiles" &&
	dpkg --purge maasfs >"$TMP/purge.out" 2>&1 ||
		{ cat "$TMP/purge.out"; exit 1; }
	while read -r f; do
		test ! -e "$f" || { echo "left: $f"; exit 1; }
	done <"$TMP/pkgfiles" &&
	test ! -e /etc/maasfs && test ! -e /etc/default/maasfs &&
	! dpkg-query -W maasfs >/dev/null 2>&1
'

test_expect_success 'the estate the test made is removed' '
	maas_mount &&
	rmdir "$MNT/$A/subnets/web" "$MNT/$A" && assert_clean && maas_umount
'

test_done
