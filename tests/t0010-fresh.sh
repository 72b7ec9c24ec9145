#!/usr/bin/env bash
# README command 1 on a machine as a newcomer finds it: none of the
# packages installed (pkg-config, dpkg-query and apt-get are shadowed in
# PATH, so that every package looks missing until `make deps` "installs"
# them), and libvirtd never run (a private /run without /run/libvirt).
# `make deps demo` in a clean copy of the tree must build, start the lab,
# mount and run the demo's migration. This machine's real packages serve
# once the fake apt-get has run.
# tests/run: alone (its demo runs where /run/libvirt does not exist yet:
# what it starts there must not meet the other tests' daemons)
. "$(dirname "$0")/lib.sh"

SRC=$TMP/src
FAKE=$TMP/fakebin
MARK=$TMP/installed

test_expect_success 'a clean copy of the tree, and tools that see no package' '
	mkdir -p "$SRC" "$FAKE" &&
	(cd "$ROOT" && tar --exclude=./.git --exclude="./build*" \
		--exclude=./maasfs -cf - .) | tar -x -C "$SRC" &&
	cat >"$FAKE/pkg-config" <<-EOF &&
	#!/bin/sh
	[ -e "$MARK" ] && exec /usr/bin/pkg-config "\$@"
	echo "Package \$1 was not found in the pkg-config search path." >&2
	exit 1
	EOF
	cat >"$FAKE/dpkg-query" <<-EOF &&
	#!/bin/sh
	[ -e "$MARK" ] && exec /usr/bin/dpkg-query "\$@"
	echo "dpkg-query: no packages found matching \$*" >&2
	exit 1
	EOF
	cat >"$FAKE/apt-get" <<-EOF &&
	#!/bin/sh
	# update and install are make deps; the rest (the lab downloads
	# the kernel package of its image) is the real apt-get
	case "\$1" in update|install) ;; *) exec /usr/bin/apt-get "\$@" ;; esac
	echo "fake apt-get \$*"
	[ "\$1" = install ] && touch "$MARK"
	exit 0
	EOF
	chmod +x "$FAKE"/* &&
	! PATH=$FAKE:$PATH pkg-config --exists fuse3
'

test_expect_success 'without make deps, the build names what is missing' '
	! PATH=$FAKE:$PATH make -C "$SRC" maasfs >"$TMP/nodeps.out" 2>&1 &&
	cat "$TMP/nodeps.out" &&
	grep -q "libraries missing (fuse3 .*): run .make deps." "$TMP/nodeps.out" &&
	! grep -q "fatal error" "$TMP/nodeps.out"
'

# The demo runs in a mount namespace of its own whose /run is a new
# tmpfs: no /run/libvirt, no /run/netns, as on a machine that never ran
# libvirtd; its lab, mount and state are the test's and go with it.
test_expect_success 'make deps demo, packages missing and no /run/libvirt' '
	cat >"$TMP/demo.sh" <<-EOF &&
	set -u
	finish() {
		"$SRC/examples/multicloud.sh" --clean "$MNT" >/dev/null 2>&1
		fusermount3 -u "$MNT" 2>/dev/null
		"$SRC/examples/lab/lab" down >/dev/null 2>&1
	}
	trap finish EXIT
	mount -t tmpfs -o mode=755 t0010-run /run || exit 1
	test ! -e /run/libvirt || exit 1
	PATH=$FAKE:\$PATH MNT=$MNT STATE=$TMP/demo-state \
		make -C "$SRC" deps demo
	EOF
	unshare -m --propagation private bash "$TMP/demo.sh" >"$TMP/demo.out" 2>&1;
	rc=$?; tail -n 30 "$TMP/demo.out"; test $rc = 0 &&
	grep -q "^fake apt-get install" "$TMP/demo.out" &&
	first_cc=$(grep -n "  CC " "$TMP/demo.out" | head -n1 | cut -d: -f1) &&
	apt=$(grep -n "^fake apt-get install" "$TMP/demo.out" | cut -d: -f1) &&
	test "$apt" -lt "$first_cc" &&
	grep -q "^\$ echo cloud2 > $MNT/tenantA/vms/vm1/location" "$TMP/demo.out" &&
	grep -q "^vm1: running on cloud2, ip 10\.0\.1\.[0-9]*: maas-tiny id=.* boots=1" \
		"$TMP/demo.out"
'

test_expect_success 'the demo left nothing behind' '
	! grep -q " $MNT " /proc/mounts &&
	! ip netns list | grep -q "^lab-cloud" &&
	! pgrep -f -- "state=$TMP/demo-state" >/dev/null
'

test_done
