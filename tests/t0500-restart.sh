#!/usr/bin/env bash
# Restart and crashes: kill -9 and a new mount show the same tree, create
# nothing twice and keep leases working; reconcile re-creates what is
# missing and sweeps what is ours but unknown; a bad state file is refused.
. "$(dirname "$0")/lib.sh"

A=${T}a
B=${T}b
S=$MNT/$A/subnets/web
C1=${T}c1

# Every path and every readable value of the tree (leases aside: a lease's
# expiry moves), to compare two mounts.
tree_dump() {
	(cd "$MNT" && find . | sort | while read -r f; do
		if [ -f "$f" ] && [ -r "$f" ] && [ "${f##*/}" != leases ] &&
			[ "${f##*/}" != new ] && [ "${f##*/}" != events ]; then
			echo "$f: $(cat "$f" | tr "\n" "|")"
		else
			echo "$f"
		fi
	done)
}

test_expect_success 'an estate: two tenants, three subnets, a leased client' '
	maas_mount &&
	mkdir "$MNT/$A" "$MNT/$B" &&
	echo "10.0.1.0/24 name=web" >"$MNT/$A/subnets/new" &&
	echo "10.0.2.0/24 name=db dhcp=off" >"$MNT/$A/subnets/new" &&
	echo "10.0.1.0/24" >"$MNT/$B/subnets/new" &&
	echo "10.0.1.50 10.0.1.60" >"$S/dhcp/range" &&
	client_add "$C1" "$(cat "$S/bridge")" &&
	client_dhcp "$C1" &&
	ip_in_range "$(lease_get "$C1" ip)" 10.0.1.50 10.0.1.60
'

test_expect_success 'kill -9: the data plane keeps running' '
	v=$(cat "$S/vni") &&
	tree_dump >"$TMP/tree.before" &&
	kernel_snapshot >"$TMP/k.before" &&
	ip -o link show "maasb$v" | cut -d: -f1 >"$TMP/ifindex.before" &&
	dnsmasq_pid "$v" >"$TMP/pid.before" &&
	maas_kill9 &&
	test -n "$(dnsmasq_pid "$v")" &&
	ip link show "maasb$v" >/dev/null &&
	ip netns list | grep -q "^maas-$A\b"
'

test_expect_success 'a new mount shows the same tree and creates nothing twice' '
	v=$(cat "$STATE/state.yaml" | sed -n "/web:/,/vni:/s/ *vni: //p") &&
	maas_mount &&
	tree_dump >"$TMP/tree.after" &&
	diff "$TMP/tree.before" "$TMP/tree.after" &&
	kernel_snapshot >"$TMP/k.after" &&
	diff "$TMP/k.before" "$TMP/k.after" &&
	expect_eq "$(cat "$TMP/ifindex.before")" \
		"$(ip -o link show "maasb$v" | cut -d: -f1)" "bridge ifindex" &&
	expect_eq "$(cat "$TMP/pid.before")" "$(dnsmasq_pid "$v")" "dnsmasq pid"
'

test_expect_success 'the lease still works: the client renews the same address' '
	ip=$(lease_get "$C1" ip) &&
	client_dhcp "$C1" -r "$ip" &&
	expect_eq "$ip" "$(lease_get "$C1" ip)" &&
	grep -q " $ip " "$S/dhcp/leases"
'

test_expect_success 'unmount leaves the data plane running too' '
	v=$(cat "$S/vni") &&
	maas_umount &&
	test -n "$(dnsmasq_pid "$v")" &&
	ip link show "maasb$v" >/dev/null
'

test_expect_success 'reconcile re-creates a deleted bridge, address and dnsmasq' '
	v=$(cat "$STATE/state.yaml" | sed -n "/web:/,/vni:/s/ *vni: //p") &&
	ip link del "maasb$v" &&
	ip -n "maas-$A" addr flush dev "maasg$v" &&
	kill "$(dnsmasq_pid "$v")" &&
	wait_for 5 test -z "$(dnsmasq_pid "$v")" &&
	maas_mount &&
	ip link show "maasb$v" | grep -q "state UP" &&
	ip link show "maash$v" | grep -q "master maasb$v" &&
	ip -n "maas-$A" -o addr show | grep -q "inet 10.0.1.1/24" &&
	test -n "$(dnsmasq_pid "$v")" &&
	# The test client is not maasfs'"'"'s: its port went with the old bridge.
	ip link set "${C1}v" master "maasb$v" &&
	client_dhcp "$C1" &&
	ip_in_range "$(lease_get "$C1" ip)" 10.0.1.50 10.0.1.60
'

# A link is made in one request and given its alias (the marker) in a
# second: killed between the two, maasfs finds it by the device group the
# first request gave it, and finishes it.
test_expect_success 'a bridge left without its alias (killed between the two requests) is ours again' '
	v=$(cat "$STATE/state.yaml" | sed -n "/web:/,/vni:/s/ *vni: //p") &&
	maas_umount &&
	ip link set dev "maasb$v" alias "" &&
	! ip -d link show "maasb$v" | grep -q "alias maasfs:" &&
	maas_mount &&
	ip -d link show "maasb$v" | grep -q "alias maasfs:" &&
	expect_eq ready "$(head -n1 "$MNT/$A/subnets/web/status")"
'

test_expect_success 'a namespace deleted behind its back comes back' '
	maas_umount &&
	ip netns pids "maas-$B" | xargs -r kill &&
	ip netns del "maas-$B" &&
	maas_mount &&
	ip netns list | grep -q "^maas-$B\b" &&
	ip -n "maas-$B" -o addr show | grep -q "inet 10.0.1.1/24" &&
	head -n1 "$MNT/$B/subnets/10.0.1.0_24/status" | grep -qx ready &&
	grep -q "^dhcp: running pid" "$MNT/$B/subnets/10.0.1.0_24/status"
'

test_expect_success 'what is ours but not in the state is swept; the rest is not' '
	maas_umount &&
	vdb=$(sed -n "/db:/,/vni:/s/ *vni: //p" "$STATE/state.yaml") &&
	cp "$STATE/state.yaml" "$TMP/full.yaml" &&
	awk "/^  $B:/ {skip=1; next} /^(  )?[^ ]/ {skip=0} !skip" \
		"$TMP/full.yaml" >"$TMP/noB.yaml" &&
	awk "/^      db:/ {skip=1; next} /^(      |    |  )?[^ ]/ {skip=0} !skip" \
		"$TMP/noB.yaml" >"$STATE/state.yaml" &&
	! grep -q "db:" "$STATE/state.yaml" &&
	ip link add "${T}br" type bridge &&
	ip link add "maasb$((VNI_LAST))" type bridge &&
	maas_mount &&
	! ip netns list | grep -q "^maas-$B\b" &&
	! ip link show "maasb$vdb" 2>/dev/null &&
	! ip -n "maas-$A" link show "maasg$vdb" 2>/dev/null &&
	ip link show "${T}br" >/dev/null &&
	ip link show "maasb$((VNI_LAST))" >/dev/null &&
	expect_eq "clouds events plan spec.yaml status $A topology.dot" "$(ls "$MNT" | LC_ALL=C sort | xargs)" &&
	expect_eq "new web" "$(ls "$MNT/$A/subnets" | xargs)" &&
	ip link del "${T}br" &&
	ip link del "maasb$((VNI_LAST))"
'

test_expect_success 'a truncated state file is refused, nothing is touched' '
	maas_umount &&
	kernel_snapshot >"$TMP/k.before" &&
	cp "$STATE/state.yaml" "$TMP/good.yaml" &&
	head -c 120 "$TMP/good.yaml" >"$STATE/state.yaml" &&
	! "$MAASFS" -o state=$STATE,vni=$VNI_FIRST-$VNI_LAST "$MNT" 2>"$TMP/e" &&
	grep -q "state.yaml.*truncated" "$TMP/e" &&
	! mountpoint -q "$MNT" &&
	kernel_snapshot >"$TMP/k.after" &&
	diff "$TMP/k.before" "$TMP/k.after"
'

test_expect_success 'a corrupt state file is refused with its line' '
	sed "s/cidr: 10.0.1.0\/24/cidr: 10.0.1.0\/99/" "$TMP/good.yaml" \
		>"$STATE/state.yaml" &&
	! "$MAASFS" -o state=$STATE,vni=$VNI_FIRST-$VNI_LAST "$MNT" 2>"$TMP/e" &&
	grep -q "state.yaml:[0-9]*:[0-9]*: subnet web: .*prefix must be" "$TMP/e" &&
	printf "\000\377garbage: [" >"$STATE/state.yaml" &&
	! "$MAASFS" -o state=$STATE,vni=$VNI_FIRST-$VNI_LAST "$MNT" 2>"$TMP/e" &&
	grep -q "state.yaml" "$TMP/e" &&
	! mountpoint -q "$MNT" &&
	cp "$TMP/good.yaml" "$STATE/state.yaml"
'

test_expect_success 'deleting everything leaves nothing behind' '
	maas_mount &&
	client_del "$C1" &&
	rmdir "$S" "$MNT/$A" &&
	assert_clean &&
	maas_umount
'

test_done
