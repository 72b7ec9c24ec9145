#!/usr/bin/env bash
# Permissions: with -o allow_other, the owner of a tenant directory (set
# with chown) manages everything inside it and nothing elsewhere.
. "$(dirname "$0")/lib.sh"

A=${T}a
B=${T}b
U=4242

# as_user OP PATH [ARG]: fsop run as uid/gid $U with no other groups.
as_user() {
	setpriv --reuid=$U --regid=$U --clear-groups "$TMP/bin/fsop" "$@" 2>&1
}
user_expect() {
	local want=$1 got
	shift
	got=$(as_user "$@") || true
	expect_eq "$want" "$got" "as uid $U: fsop $*"
}

test_expect_success 'mount with allow_other; two tenants' '
	mkdir -m 755 "$TMP/bin" && cp "$FSOP" "$TMP/bin/fsop" &&
	maas_mount -o allow_other &&
	mkdir "$MNT/$A" "$MNT/$B" &&
	expect_eq "0:0" "$(stat -c %u:%g "$MNT/$A/subnets/new")"
'

test_expect_success 'chown of a tenant gives it, and all inside, to the user' '
	chown $U:$U "$MNT/$A" &&
	expect_eq "$U:$U" "$(stat -c %u:%g "$MNT/$A")" &&
	expect_eq "$U:$U" "$(stat -c %u:%g "$MNT/$A/subnets/new")" &&
	expect_eq "$U:$U" "$(stat -c %u:%g "$MNT/$A/status")" &&
	expect_eq "0:0" "$(stat -c %u:%g "$MNT/$B/subnets/new")" &&
	expect_eq "0:0" "$(stat -c %u:%g "$MNT")" &&
	grep -q "owner: $U:$U" "$STATE/state.yaml"
'

test_expect_success 'the owner makes and changes subnets in its tenant' '
	user_expect OK write "$MNT/$A/subnets/new" "10.0.1.0/24 name=web" &&
	ip -n "maas-$A" -o addr show | grep -q "inet 10.0.1.1/24" &&
	expect_eq "$U:$U" "$(stat -c %u:%g "$MNT/$A/subnets/web/dhcp/range")" &&
	user_expect OK write "$MNT/$A/subnets/web/dhcp/domain" "mine.example" &&
	expect_eq mine.example "$(cat "$MNT/$A/subnets/web/dhcp/domain")" &&
	user_expect OK rmdir "$MNT/$A/subnets/web/dhcp" &&
	user_expect OK mkdir "$MNT/$A/subnets/web/dhcp" &&
	as_user read "$MNT/$A/status" | head -n1 | grep -qx ready &&
	as_user read "$MNT/$A/spec.yaml" | grep -q "web:" &&
	user_expect OK write "$MNT/$A/plan" "tenants: {$A: {subnets: {web: {cidr: 10.0.1.0/24, dhcp: off}}}}" &&
	as_user read "$MNT/$A/plan" | grep -q "^  1: {do: rmdir /$A/subnets/web/dhcp}$" &&
	[ -d "$MNT/$A/subnets/web/dhcp" ]
'

test_expect_success 'root sets the quota; the owner reads it, cannot raise it, meets it' '
	expect_eq "subnets=none vms=none vcpus=none memory=none disk=none" \
		"$(as_user read "$MNT/$A/quota")" &&
	user_expect EACCES write "$MNT/$A/quota" "subnets=100" &&
	echo "subnets=1 vcpus=8 memory=4G" >"$MNT/$A/quota" &&
	expect_eq "subnets=1 vms=none vcpus=8 memory=4G disk=none" \
		"$(as_user read "$MNT/$A/quota")" &&
	grep -q "quota: subnets=1 vms=none vcpus=8 memory=4G disk=none" "$STATE/state.yaml" &&
	user_expect EDQUOT write "$MNT/$A/subnets/new" "10.0.2.0/24 name=two" &&
	grep -q "EDQUOT: tenant $A: its quota of subnets is 1, this would make 2" "$MNT/$A/status" &&
	! test -e "$MNT/$A/subnets/two" &&
	as_user read "$MNT/$A/status" | grep -q "^used: subnets 1 of 1, vms 0 of none" &&
	expect_errno EINVAL write "$MNT/$A/quota" "subnets=lots" &&
	echo none >"$MNT/$A/quota" &&
	grep -qv "quota:" "$STATE/state.yaml"
'

test_expect_success 'scratch files are shared out per user: 16 each' '
	for i in $(seq 1 16); do
		user_expect OK create "$MNT/$A/.tmp$i" || return 1
	done &&
	user_expect EDQUOT create "$MNT/$A/.tmp17" &&
	: >"$MNT/$A/.root1" &&
	rm -f "$MNT/$A/.root1" &&
	for i in $(seq 1 16); do
		user_expect OK unlink "$MNT/$A/.tmp$i" || return 1
	done &&
	user_expect OK create "$MNT/$A/.tmp17" &&
	user_expect OK unlink "$MNT/$A/.tmp17"
'

test_expect_success 'another tenant is closed to the user: the kernel says EACCES' '
	expect_eq 700 "$(stat -c %a "$MNT/$A")" &&
	expect_eq 700 "$(stat -c %a "$MNT/$B")" &&
	echo "10.0.9.0/24 name=secret" >"$MNT/$B/subnets/new" &&
	user_expect EACCES read "$MNT/$B/status" &&
	user_expect EACCES read "$MNT/$B/spec.yaml" &&
	user_expect EACCES read "$MNT/$B/plan" &&
	user_expect EACCES read "$MNT/$B/subnets/secret/cidr" &&
	user_expect EACCES read "$MNT/$B/subnets/secret/dhcp/leases" &&
	! setpriv --reuid=$U --regid=$U --clear-groups ls "$MNT/$B" 2>/dev/null &&
	! setpriv --reuid=$U --regid=$U --clear-groups ls "$MNT/$B/subnets" 2>/dev/null
'

test_expect_success 'the root files that tell of every tenant are for root alone' '
	user_expect EACCES read "$MNT/spec.yaml" &&
	user_expect EACCES read "$MNT/plan" &&
	user_expect EACCES write "$MNT/plan" "tenants: {}" &&
	user_expect EACCES read "$MNT/topology.dot" &&
	user_expect EACCES read "$MNT/clouds/local/vms" &&
	expect_eq 600 "$(stat -c %a "$MNT/spec.yaml")" &&
	expect_eq 400 "$(stat -c %a "$MNT/events")" &&
	! setpriv --reuid=$U --regid=$U --clear-groups cat "$MNT/events" 2>/dev/null &&
	as_user read "$MNT/status" | head -n1 | grep -qx ready &&
	as_user read "$MNT/clouds/local/status" | grep -qx up &&
	grep -q "secret:" "$MNT/spec.yaml" &&
	rmdir "$MNT/$B/subnets/secret"
'

# held_write UID FILE VALUE: UID opens FILE for writing, says so in
# $TMP/opened, and writes VALUE once $TMP/go is written; its errors land
# in $TMP/err and its exit status in $TMP/rc.
held_write() {
	rm -f "$TMP/opened" "$TMP/go" "$TMP/err" "$TMP/rc" || return 1
	mkfifo "$TMP/go" || return 1
	# (only this command in the background: a whole && list there
	# would remove the files of the last call while wait_for looks)
	setpriv --reuid=$1 --regid=$1 --clear-groups bash -c '
		exec 3>"$1" && : >"$3" && read -r _ <"$2" &&
		printf "%s\n" "$5" >&3 2>"$4"; echo $? >"$6"' _ \
		"$2" "$TMP/go" "$TMP/opened" "$TMP/err" "$3" "$TMP/rc" &
	wait_for 10 test -e "$TMP/opened"
}
held_go() {
	echo go >"$TMP/go" && wait_for 10 test -s "$TMP/rc"
}

test_expect_success 'an open file stays bound to its object: a tenant made again' '
	chmod 777 "$TMP" &&
	held_write 0 "$MNT/$B/subnets/new" "10.0.3.0/24 name=late" &&
	rmdir "$MNT/$B" && mkdir "$MNT/$B" &&
	held_go &&
	expect_eq 1 "$(cat "$TMP/rc")" &&
	grep -q "Stale file handle" "$TMP/err" &&
	! test -e "$MNT/$B/subnets/late"
'

test_expect_success 'and to its owner: a tenant given to another user' '
	held_write $U "$MNT/$A/subnets/new" "10.0.4.0/24 name=late" &&
	chown 4343:4343 "$MNT/$A" &&
	held_go &&
	expect_eq 1 "$(cat "$TMP/rc")" &&
	grep -q "Permission denied" "$TMP/err" &&
	! test -e "$MNT/$A/subnets/late" &&
	chown $U:$U "$MNT/$A"
'

test_expect_success 'and a spec.yaml applied at close: ESTALE, nothing applied' '
	held_write 0 "$MNT/$B/spec.yaml" "subnets: {late: {cidr: 10.0.5.0/24}}" &&
	rmdir "$MNT/$B" && mkdir "$MNT/$B" &&
	held_go &&
	expect_eq 1 "$(cat "$TMP/rc")" &&
	! test -e "$MNT/$B/subnets/late"
'

test_expect_success 'and nothing elsewhere' '
	user_expect EACCES mkdir "$MNT/${T}x" &&
	user_expect EACCES write "$MNT/$B/subnets/new" "10.0.2.0/24" &&
	user_expect EACCES rmdir "$MNT/$A" &&
	user_expect EACCES write "$MNT/clouds/local/state" drain &&
	expect_eq active "$(as_user read "$MNT/clouds/local/state")" &&
	! test -e "$MNT/${T}x" &&
	! test -e "$MNT/$B/subnets/10.0.2.0_24" &&
	! setpriv --reuid=$U --regid=$U --clear-groups chown 0 "$MNT/$A" 2>/dev/null &&
	expect_eq "$U:$U" "$(stat -c %u:%g "$MNT/$A")"
'

test_expect_success 'only tenant directories change owner' '
	expect_errno EPERM chmod "$MNT/$A/subnets" &&
	! chown $U "$MNT/$A/subnets" 2>/dev/null &&
	! chown $U "$MNT/$B/status" 2>/dev/null &&
	expect_eq "0:0" "$(stat -c %u:%g "$MNT/$B/status")"
'

test_expect_success 'the owner survives a restart' '
	maas_kill9 &&
	maas_mount -o allow_other &&
	expect_eq "$U:$U" "$(stat -c %u:%g "$MNT/$A/subnets/web/cidr")" &&
	user_expect OK write "$MNT/$A/subnets/web/dhcp/range" "10.0.1.20 10.0.1.30"
'

test_expect_success 'chown back to root; nothing is left after deleting' '
	chown 0:0 "$MNT/$A" &&
	! grep -q "owner:" "$STATE/state.yaml" &&
	user_expect EACCES write "$MNT/$A/subnets/web/dhcp/range" "10.0.1.20 10.0.1.40" &&
	rmdir "$MNT/$A/subnets/web" "$MNT/$A" "$MNT/$B" &&
	assert_clean &&
	maas_umount
'

test_done
