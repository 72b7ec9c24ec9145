#!/usr/bin/env bash
# Many users on one mount (issue 17): three users, each the owner of a
# tenant, work at once (subnets made, changed and removed, DHCP settings,
# their quota read, editors' scratch files), and each one's every attempt
# on another's tenant is refused by the kernel; at the end each tenant holds
# exactly what its owner made, and the kernel agrees.
. "$(dirname "$0")/lib.sh"

USERS="4301 4302 4303"

tenant_of() { echo "${T}u$1"; }

# as UID OP PATH [ARG]: fsop as that user, no other groups.
as() {
	local u=$1
	shift
	setpriv --reuid="$u" --regid="$u" --clear-groups "$TMP/bin/fsop" "$@" 2>&1
}

# work UID: what one user does, 6 rounds, while the others do the same;
# every answer that is not the one expected goes to $TMP/bad.UID.
work() {
	local u=$1 me other i n got
	me=$MNT/$(tenant_of "$u")
	n=$((u - 4300))
	for i in 1 2 3 4 5 6; do
		got=$(as "$u" write "$me/subnets/new" "10.$n.$i.0/24 name=s$i")
		[ "$got" = OK ] || echo "make s$i: $got" >>"$TMP/bad.$u"
		got=$(as "$u" write "$me/subnets/s$i/dhcp/domain" "u$u-$i.example")
		[ "$got" = OK ] || echo "domain s$i: $got" >>"$TMP/bad.$u"
		got=$(as "$u" create "$me/.edit$i")
		[ "$got" = OK ] || echo "scratch $i: $got" >>"$TMP/bad.$u"
		got=$(as "$u" unlink "$me/.edit$i")
		[ "$got" = OK ] || echo "unlink $i: $got" >>"$TMP/bad.$u"
		for other in $USERS; do
			[ "$other" = "$u" ] && continue
			got=$(as "$u" write "$MNT/$(tenant_of "$other")/subnets/new" \
				"10.9$n.$i.0/24 name=x$u")
			[ "$got" = EACCES ] || echo "write in $other's: $got" >>"$TMP/bad.$u"
			got=$(as "$u" read "$MNT/$(tenant_of "$other")/status")
			[ "$got" = EACCES ] || echo "read $other's: $got" >>"$TMP/bad.$u"
		done
		if [ $((i % 2)) = 0 ]; then
			got=$(as "$u" rmdir "$me/subnets/s$((i - 1))")
			[ "$got" = OK ] || echo "rmdir s$((i - 1)): $got" >>"$TMP/bad.$u"
		fi
	done
}

test_expect_success 'mount with allow_other; a tenant for each user' '
	mkdir -m 755 "$TMP/bin" && cp "$FSOP" "$TMP/bin/fsop" &&
	maas_mount -o allow_other &&
	for u in $USERS; do
		mkdir "$MNT/$(tenant_of "$u")" &&
		chown "$u:$u" "$MNT/$(tenant_of "$u")" || return 1
	done
'

test_expect_success 'three users at once, each in its own tenant' '
	pids= &&
	for u in $USERS; do
		work "$u" & pids="$pids $!"
	done &&
	for p in $pids; do wait "$p" || return 1; done &&
	for u in $USERS; do
		if [ -s "$TMP/bad.$u" ]; then cat "$TMP/bad.$u"; return 1; fi
	done
'

test_expect_success 'each tenant holds what its owner made; the kernel agrees' '
	for u in $USERS; do
		t=$(tenant_of "$u") && n=$((u - 4300)) &&
		expect_eq "s2 s4 s6" "$(ls "$MNT/$t/subnets" | grep -v "^new$" | xargs)" &&
		expect_eq "u$u-6.example" "$(cat "$MNT/$t/subnets/s6/dhcp/domain")" &&
		expect_eq "$u:$u" "$(stat -c %u:%g "$MNT/$t/subnets/s6/cidr")" &&
		for i in 2 4 6; do
			ip -n "maas-$t" -o addr show | grep -q "inet 10.$n.$i.1/24" || return 1
		done &&
		! ip -n "maas-$t" -o addr show | grep -q "inet 10.$n.1.1/24" &&
		! ip -n "maas-$t" -o addr show | grep -q "inet 10.9" || return 1
	done
'

test_expect_success 'nothing is left after deleting' '
	for u in $USERS; do
		t=$(tenant_of "$u") &&
		rmdir "$MNT/$t/subnets/s2" "$MNT/$t/subnets/s4" "$MNT/$t/subnets/s6" "$MNT/$t" ||
			return 1
	done &&
	assert_clean &&
	maas_umount
'

test_done
