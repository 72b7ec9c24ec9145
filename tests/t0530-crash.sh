#!/usr/bin/env bash
# A randomized crash test (issue 17): a scripted workload (tenants,
# subnets, DHCP changes, subnets removed, tenants' spec.yaml applied) runs
# while maasfs is killed with SIGKILL at a random moment, CRASH_ROUNDS times
# (default 8) from seed CRASH_SEED (default 17: `make check` runs that; `make
# crash` runs many more rounds from a new seed each time). After each
# remount the estate converges: everything acknowledged is there, nothing
# exists twice, and the tree and the kernel agree (a namespace per tenant, a
# gateway address and a bridge per subnet, a dnsmasq per subnet with DHCP,
# and nothing else of this instance).
. "$(dirname "$0")/lib.sh"

SEED=${CRASH_SEED:-17}
ROUNDS=${CRASH_ROUNDS:-8}
echo "# seed $SEED, $ROUNDS rounds"
RANDOM=$SEED

# The workload: ops drawn from the seed; each one that returned success is
# acknowledged in $TMP/acked as "+path" (exists) or "-path" (gone). It
# stops at the first op the dead mount refuses (ENOTCONN).
workload() {
	local seed=$1 i t n s op
	RANDOM=$seed
	for i in $(seq 1 60); do
		t=${T}t$((RANDOM % 3)) n=$((RANDOM % 6)) op=$((RANDOM % 6))
		s=s$n
		case $op in
		0) mkdir "$MNT/$t" 2>/dev/null && echo "+$t" ;;
		1 | 2) echo "10.$((RANDOM % 3)).$n.0/24 name=$s" \
			>"$MNT/$t/subnets/new" 2>/dev/null && echo "+$t/subnets/$s" ;;
		3) rmdir "$MNT/$t/subnets/$s" 2>/dev/null && echo "-$t/subnets/$s" ;;
		4) echo "10.$((RANDOM % 3)).$n.$((20 + RANDOM % 50)) 10.$((RANDOM % 3)).$n.200" \
			>"$MNT/$t/subnets/$s/dhcp/range" 2>/dev/null ;;
		5) printf 'tenants:\n  %s:\n    subnets:\n      d%s: {cidr: 10.200.%s.0/24}\n    vms: {}\n' \
			"$t" "$n" "$n" >"$MNT/$t/spec.yaml" 2>/dev/null &&
			echo "+$t/subnets/d$n" ;;
		esac
		mountpoint -q "$MNT" || break
	done >>"$TMP/acked"
}

# What the tree says, as "tenant subnet vni dhcp" lines, sorted.
tree_view() {
	local t s
	for t in $(ls "$MNT" | grep "^${T}t"); do
		echo "$t"
		for s in $(ls "$MNT/$t/subnets" | grep -v '^new$'); do
			echo "$t $s $(cat "$MNT/$t/subnets/$s/vni")" \
				"$(test -d "$MNT/$t/subnets/$s/dhcp" && echo dhcp)"
		done
	done | sort
}

# The estate converged: acknowledged objects there (the last word on each
# path wins), each VNI once, and the kernel holding exactly the tree.
converged() {
	local p want t s v dhcp gws bridges=0 dnsmasqs=0 tenants=0
	tree_view >"$TMP/tree"
	# acknowledged: the last line about each path
	tac "$TMP/acked" | awk '!seen[substr($0, 2)]++' >"$TMP/last"
	while read -r p; do
		want=${p:0:1} p=${p:1}
		# a tenant's spec.yaml applied later may have removed a subnet:
		# only a creation not followed by a document is checked
		if [ "$want" = + ] && ! test -e "$MNT/$p"; then
			grep -q "^+${p%%/*}/subnets/d" "$TMP/acked" && continue
			echo "acknowledged but missing: $p"
			return 1
		fi
		if [ "$want" = - ] && test -e "$MNT/$p"; then
			grep -q "^+$p\$" "$TMP/acked" && continue   # made again later
			echo "removed but back: $p"
			return 1
		fi
	done <"$TMP/last"
	# each VNI once
	if [ -n "$(awk 'NF >= 3 {print $3}' "$TMP/tree" | sort | uniq -d)" ]; then
		echo "a VNI twice:"; cat "$TMP/tree"; return 1
	fi
	# the kernel: a namespace per tenant, and per subnet its gateway, its
	# bridge and (with DHCP) its dnsmasq; nothing more
	while read -r t s v dhcp; do
		if [ -z "$s" ]; then
			tenants=$((tenants + 1))
			ip netns list | grep -q "^maas-$t\b" ||
				{ echo "no namespace for $t"; return 1; }
			gws=$(ip -n "maas-$t" -o -4 addr show | grep -c "maasg")
			[ "$gws" -eq "$(awk -v t="$t" '$1 == t && NF >= 3' "$TMP/tree" | wc -l)" ] ||
				{ echo "$t: $gws gateways"; ip -n "maas-$t" -o -4 addr show; cat "$TMP/tree"; return 1; }
			continue
		fi
		bridges=$((bridges + 1))
		ip link show "maasb$v" >/dev/null 2>&1 ||
			{ echo "no bridge for $t/$s (VNI $v)"; return 1; }
		if [ "$dhcp" = dhcp ]; then
			dnsmasqs=$((dnsmasqs + 1))
			[ -n "$(dnsmasq_pid "$v")" ] ||
				{ echo "no dnsmasq for $t/$s (VNI $v)"; return 1; }
		fi
	done <"$TMP/tree"
	[ "$(our_netns | wc -l)" -eq "$tenants" ] ||
		{ echo "namespaces: $(our_netns | xargs), tenants: $tenants"; return 1; }
	[ "$(our_links | grep -c '^maasb')" -eq "$bridges" ] ||
		{ echo "bridges: $(our_links | grep '^maasb' | xargs), subnets: $bridges"; return 1; }
	[ "$(dnsmasq_count)" -eq "$dnsmasqs" ] ||
		{ echo "dnsmasqs: $(dnsmasq_count), with DHCP: $dnsmasqs"; return 1; }
}

test_expect_success 'mount' '
	: >"$TMP/acked" &&
	maas_mount
'

for round in $(seq 1 "$ROUNDS"); do
	delay=$((RANDOM % 700))
	wseed=$RANDOM
	test_expect_success "round $round: SIGKILL after ${delay} ms of work; the estate converges" '
		workload '"$wseed"' &
		w=$! &&
		sleep '"$(printf '0.%03d' "$delay")"' &&
		maas_kill9 &&
		wait $w;
		maas_mount &&
		converged
	'
	echo "# $(grep -c . "$TMP/acked") operations acknowledged so far;" \
		"$(tree_view 2>/dev/null | grep -c " ") subnets now"
done

test_expect_success 'everything removed; nothing left' '
	for t in $(ls "$MNT" | grep "^${T}t"); do
		for s in $(ls "$MNT/$t/subnets" | grep -v "^new$"); do
			rmdir "$MNT/$t/subnets/$s" || return 1
		done
		rmdir "$MNT/$t" || return 1
	done &&
	assert_clean &&
	maas_umount
'

test_done
