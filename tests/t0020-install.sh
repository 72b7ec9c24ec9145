#!/usr/bin/env bash
# make install and make uninstall, with PREFIX and DESTDIR: exactly the
# binary, the man pages (rendered by man without a warning), the systemd
# unit (systemd-analyze verify), the example and the settings; settings a
# user changed are kept, and uninstall leaves nothing else.
. "$(dirname "$0")/lib.sh"

D=$TMP/root

want_files() {
	cat <<-EOF
	etc/default/maasfs
	etc/maasfs/clouds.yaml
	usr/local/bin/maasfs
	usr/local/lib/systemd/system/maasfs.service
	usr/local/share/doc/maasfs/README.md
	usr/local/share/doc/maasfs/examples/clouds.yaml
	usr/local/share/man/man5/maasfs-clouds.5
	usr/local/share/man/man8/maasfs.8
	EOF
}

test_expect_success 'make install DESTDIR=... installs exactly its files' '
	make -s -C "$ROOT" install DESTDIR="$D" >"$TMP/install.out" &&
	(cd "$D" && find . -type f | sed "s|^\./||" | sort) >"$TMP/files" &&
	want_files | diff - "$TMP/files" &&
	test -x "$D/usr/local/bin/maasfs" &&
	"$D/usr/local/bin/maasfs" --version | grep -q "^maasfs [0-9]" &&
	grep -q "NEW .*/etc/maasfs/clouds.yaml" "$TMP/install.out"
'

test_expect_success 'the man pages render without a warning' '
	for p in man8/maasfs.8 man5/maasfs-clouds.5; do
		MANWIDTH=80 man --warnings -E UTF-8 -l "$D/usr/local/share/man/$p" \
			>"$TMP/page" 2>"$TMP/warn" &&
		test ! -s "$TMP/warn" || { cat "$TMP/warn"; exit 1; }
		grep -q "SYNOPSIS\|DESCRIPTION" "$TMP/page" || exit 1
	done &&
	MANWIDTH=80 man -l "$D/usr/local/share/man/man8/maasfs.8" |
		grep -q "fuse.maasfs" &&
	MANWIDTH=80 man -l "$D/usr/local/share/man/man5/maasfs-clouds.5" |
		grep -q "ssh-keyscan"
'

# (systemd-analyze verify checks the unit where it is really installed:
# t0030, the package)
test_expect_success 'the unit names the installed paths' '
	u=$D/usr/local/lib/systemd/system/maasfs.service &&
	grep -qx "ExecStart=/usr/local/bin/maasfs -o \${MAASFS_OPTIONS} \${MAASFS_MOUNTPOINT}" "$u" &&
	grep -qx "EnvironmentFile=-/etc/default/maasfs" "$u" &&
	grep -q "config=/etc/maasfs/clouds.yaml" "$u" &&
	grep -qx "KillMode=process" "$u"
'

test_expect_success 'the installed clouds file mounts: this host, cloud local' '
	maas_mount -o config="$D/etc/maasfs/clouds.yaml" &&
	expect_eq local "$(ls "$MNT/clouds")" &&
	expect_eq "qemu:///system" "$(cat "$MNT/clouds/local/uri")" &&
	maas_umount
'

test_expect_success 'install again: settings a user changed are kept' '
	echo "MAASFS_MOUNTPOINT=/srv/maas" >>"$D/etc/default/maasfs" &&
	make -s -C "$ROOT" install DESTDIR="$D" >"$TMP/install.out" &&
	grep -q "KEEP .*/etc/default/maasfs" "$TMP/install.out" &&
	grep -qx "MAASFS_MOUNTPOINT=/srv/maas" "$D/etc/default/maasfs"
'

test_expect_success 'make uninstall: nothing left but the changed settings' '
	make -s -C "$ROOT" uninstall DESTDIR="$D" >"$TMP/uninstall.out" &&
	(cd "$D" && find . -type f | sed "s|^\./||") >"$TMP/left" &&
	expect_eq etc/default/maasfs "$(cat "$TMP/left")" &&
	grep -q "KEEP .*etc/default/maasfs (changed" "$TMP/uninstall.out" &&
	rm "$D/etc/default/maasfs" &&
	test ! -e "$D/etc/maasfs" && test ! -e "$D/usr/local/share/doc/maasfs"
'

test_expect_success 'PREFIX=/usr: the unit and man pages follow' '
	make -s -C "$ROOT" install DESTDIR="$D" PREFIX=/usr \
		UNITDIR=/lib/systemd/system >/dev/null &&
	grep -qx "ExecStart=/usr/bin/maasfs -o \${MAASFS_OPTIONS} \${MAASFS_MOUNTPOINT}" \
		"$D/lib/systemd/system/maasfs.service" &&
	test -f "$D/usr/share/man/man8/maasfs.8" &&
	make -s -C "$ROOT" uninstall DESTDIR="$D" PREFIX=/usr \
		UNITDIR=/lib/systemd/system >/dev/null &&
	expect_eq "" "$(find "$D" -type f)"
'

test_done
