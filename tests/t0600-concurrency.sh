#!/usr/bin/env bash
# Many writers at once: the model lock is never held across the slow
# work, yet every object comes out whole, with distinct VNIs, in the state
# file, in the kernel; and a subnet being changed answers EBUSY.
. "$(dirname "$0")/lib.sh"

N=8

test_expect_success 'mount' '
	maas_mount
'

test_expect_success "$N tenants made at once" '
	for i in $(seq 1 $N); do mkdir "$MNT/${T}t$i" & done; wait &&
	expect_eq $N "$(ls -d "$MNT/${T}t"* | wc -l)" &&
	expect_eq $N "$(our_netns | wc -l)" &&
	expect_eq "$(seq 1 $N | xargs)" "$(cat "$MNT/${T}t"*/id | sort -n | xargs)"
'

test_expect_success "two subnets in each, all at once" '
	for i in $(seq 1 $N); do
		echo "10.0.1.0/24 name=a" >"$MNT/${T}t$i/subnets/new" &
		echo "10.0.2.0/24 name=b dhcp=off" >"$MNT/${T}t$i/subnets/new" &
	done; wait &&
	expect_eq $((2 * N)) "$(ls -d "$MNT/${T}t"*/subnets/[ab] | wc -l)" &&
	expect_eq $((2 * N)) "$(cat "$MNT/${T}t"*/subnets/[ab]/vni | sort -u | wc -l)" &&
	expect_eq $((2 * N)) "$(grep -c "cidr:" "$STATE/state.yaml")" &&
	expect_eq $N "$(dnsmasq_count)" &&
	for i in $(seq 1 $N); do
		ip -n "maas-${T}t$i" -o addr show | grep -q "10.0.1.1/24" &&
		ip -n "maas-${T}t$i" -o addr show | grep -q "10.0.2.1/24" || exit 1
	done
'

test_expect_success 'the same CIDR twice at once in one tenant: one wins' '
	echo "10.0.3.0/24 name=x" >"$MNT/${T}t1/subnets/new" 2>/dev/null &
	echo "10.0.3.0/24 name=y" >"$MNT/${T}t1/subnets/new" 2>/dev/null &
	wait;
	expect_eq 1 "$(ls -d "$MNT/${T}t1/subnets/"[xy] | wc -l)" &&
	expect_eq 1 "$(grep -c "cidr: 10.0.3.0/24" "$STATE/state.yaml")" &&
	rmdir "$MNT/${T}t1/subnets/"[xy]
'

test_expect_success 'readers never see a half-made subnet' '
	(for j in $(seq 1 200); do
		for d in "$MNT/${T}t2/subnets"/*/; do
			[ -e "$d/cidr" ] || echo "half: $d"
		done
	done) >"$TMP/readers" 2>/dev/null &
	for k in 4 5 6 7 8 9; do
		echo "10.0.$k.0/24 name=r$k" >"$MNT/${T}t2/subnets/new"
	done; wait &&
	! grep -q half "$TMP/readers" &&
	rmdir "$MNT/${T}t2/subnets/"r[4-9]
'

test_expect_success 'everything deleted at once leaves nothing behind' '
	for i in $(seq 1 $N); do
		(rmdir "$MNT/${T}t$i/subnets/a" "$MNT/${T}t$i/subnets/b" &&
		 rmdir "$MNT/${T}t$i") &
	done; wait &&
	expect_eq "clouds events plan spec.yaml status topology.dot" "$(ls "$MNT" | xargs)" &&
	assert_clean &&
	maas_umount
'

test_done
