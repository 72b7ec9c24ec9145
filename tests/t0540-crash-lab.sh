#!/usr/bin/env bash
# The randomized crash test with guests (issue 17), on the lab: VMs made,
# started, stopped, migrated live and cold between the two clouds, and
# removed, while maasfs is killed with SIGKILL at a random moment,
# CRASH_ROUNDS times (default 3) from seed CRASH_SEED (default 17: `make
# check` runs that; `make crash` runs many more from a new seed). After
# each remount: every VM is whole on exactly one cloud (its location: the
# domain there, in the power state the tree says, its disk there and
# nowhere else), no domain of the tenant exists that the tree does not
# have, and what was acknowledged holds (the one operation the kill cut
# may have gone either way).
# tests/run: busy (guests booting and moving keep the CPUs busy)
. "$(dirname "$0")/lib.sh"

SEED=${CRASH_SEED:-17}
ROUNDS=${CRASH_ROUNDS:-3}
echo "# seed $SEED, $ROUNDS rounds"
RANDOM=$SEED

A=${T}a
V=$MNT/$A/vms

other() { [ "$1" = cloud1 ] && echo cloud2 || echo cloud1; }

# The workload: each op is logged "? OP VM [ARG]" before it starts and
# "OP VM [ARG]" once it succeeded, in $TMP/acked; it stops at the first op
# the dead mount refuses.
workload() {
	local i n vm op to mode
	RANDOM=$1
	for i in $(seq 1 40); do
		n=$((RANDOM % 3)) op=$((RANDOM % 8))
		vm=v$n
		case $op in
		0)
			test -d "$V/$vm" && continue
			echo "? make $vm"
			mkdir "$V/$vm" 2>/dev/null && echo "make $vm"
			;;
		1 | 2)
			echo "? run $vm"
			echo start >"$V/$vm/state" 2>/dev/null && echo "run $vm"
			;;
		3)
			echo "? stop $vm"
			echo stop >"$V/$vm/state" 2>/dev/null && echo "stop $vm"
			;;
		4 | 5 | 6)
			to=$(other "$(cat "$V/$vm/location" 2>/dev/null)")
			mode=live
			[ $((RANDOM % 3)) = 0 ] && mode=cold
			echo "? loc $vm $to"
			echo "$to mode=$mode" >"$V/$vm/location" 2>/dev/null &&
				echo "loc $vm $to"
			;;
		7)
			echo "? stop $vm"
			echo stop >"$V/$vm/state" 2>/dev/null && echo "stop $vm"
			mountpoint -q "$MNT" || break
			echo "? gone $vm"
			rmdir "$V/$vm" 2>/dev/null && echo "gone $vm"
			;;
		esac
		mountpoint -q "$MNT" || break
	done >>"$TMP/acked"
}

# expect VM: what the acknowledged operations say of VM, as "exists loc
# power" ("0 - -" if gone), then one line for each op on VM that may have
# been cut by the kill: every unacknowledged op after the last
# acknowledged one (the workload goes on against the dead mount, whose
# refusals did nothing; the op in flight at the kill is among them and
# may have gone either way). After each round the outcome is written
# down ("set VM EXISTS LOC POWER").
expect() {
	local vm=$1 ex=0 loc=cloud1 pw=stopped line op x arg last n=0 k=0
	last=$(grep -vn "^?" "$TMP/acked" | tail -n1 | cut -d: -f1)
	while read -r line; do
		n=$((n + 1))
		set -- $line
		[ "$1" = "?" ] && continue
		op=$1 x=$2 arg=${3:-}
		[ "$x" = "$vm" ] || continue
		case $op in
		set) ex=$arg loc=$4 pw=$5 ;;
		make) ex=1 loc=cloud1 pw=stopped ;;
		run) pw=running ;;
		stop) pw=stopped ;;
		loc) loc=$arg ;;
		gone) ex=0 ;;
		esac
	done <"$TMP/acked"
	if [ "$ex" = 1 ]; then echo "1 $loc $pw"; else echo "0 - -"; fi
	while read -r line; do
		k=$((k + 1))
		[ "$k" -gt "${last:-0}" ] || continue
		set -- $line
		[ "$1" = "?" ] && [ "$3" = "$vm" ] || continue
		case $2 in
		make) echo "1 cloud1 stopped" ;;
		run) echo "$ex $loc running" ;;
		stop) echo "$ex $loc stopped" ;;
		loc) echo "$ex $4 $pw" ;;
		gone) echo "0 - -"; echo "$ex $loc stopped" ;;
		esac
	done <"$TMP/acked"
}

# What the clouds and the tree show of VM: "exists loc power".
seen() {
	local vm=$1 loc st
	if ! test -d "$V/$vm"; then
		echo "0 - -"
		return
	fi
	loc=$(cat "$V/$vm/location")
	st=$(cat "$V/$vm/state")
	echo "1 $loc $st"
}

converged() {
	local vm got want c d loc st
	for vm in v0 v1 v2; do
		got=$(seen "$vm")
		want=$(expect "$vm")
		if ! grep -qxF "$got" <<<"$want"; then
			echo "$vm: the tree says '$got', the acknowledged ops '$want'"
			return 1
		fi
		test -d "$V/$vm" || continue
		loc=$(cat "$V/$vm/location") st=$(cat "$V/$vm/state")
		# whole at its location, in the power state the tree says
		d=$(oncloud "$loc" virsh -c qemu:///system domstate "maas:$A:$vm" 2>/dev/null)
		case "$st:$d" in
		running:running | stopped:"shut off") ;;
		*) echo "$vm: $st in the tree, '$d' on $loc"; return 1 ;;
		esac
		if [ "$st" = running ] || [ "$(disk_on "$loc" "$vm")" = 1 ]; then
			expect_eq 1 "$(disk_on "$loc" "$vm")" ||
				{ echo "$vm: no disk on $loc"; return 1; }
		fi
		# and nothing of it on the other cloud
		c=$(other "$loc")
		! domains_on "$c" | grep -qx "maas:$A:$vm" ||
			{ echo "$vm: a domain on $c too"; return 1; }
		expect_eq 0 "$(disk_on "$c" "$vm")" ||
			{ echo "$vm: a disk on $c too"; return 1; }
	done
	# no domain the tree does not have (a mkdir the kill cut short left
	# one: the sweep after the mount removes it, in the background)
	wait_for 60 no_strays || { no_strays -v; return 1; }
}

# Every domain of the tenant on either cloud is a VM of the tree.
no_strays() {
	local c d
	for c in cloud1 cloud2; do
		for d in $(domains_on "$c"); do
			test -d "$V/${d##*:}" && continue
			[ "${1:-}" = -v ] && echo "$d on $c, not in the tree"
			return 1
		done
	done
}

test_expect_success 'lab, mount, a subnet on cloud1' '
	: >"$TMP/acked" &&
	lab_up 2 &&
	maas_mount -o "config=$LAB_CONFIG" &&
	wait_for 15 file_is "$MNT/clouds/cloud2/status" up &&
	mkdir "$MNT/$A" &&
	echo "10.0.1.0/24 name=web cloud=cloud1" >"$MNT/$A/subnets/new"
'

for round in $(seq 1 "$ROUNDS"); do
	delay=$((1000 + RANDOM % 20000))
	wseed=$RANDOM
	test_expect_success "round $round: SIGKILL after ${delay} ms of work; every VM whole on one cloud" '
		workload '"$wseed"' &
		w=$! &&
		sleep '"$((delay / 1000)).$(printf '%03d' $((delay % 1000)))"' &&
		maas_kill9 &&
		wait $w;
		maas_mount -o "config=$LAB_CONFIG" &&
		wait_for 15 file_is "$MNT/clouds/cloud2/status" up &&
		converged &&
		for vm in v0 v1 v2; do
			echo "set $vm $(seen "$vm")"
		done >>"$TMP/acked"
	'
	echo "# $(grep -vc "^?" "$TMP/acked") operations acknowledged so far;" \
		"last: $(grep -v "^set" "$TMP/acked" | tail -n1)"
done

test_expect_success 'everything removed; nothing left on either cloud' '
	for vm in $(ls "$V" | grep "^v[0-9]$"); do
		echo stop >"$V/$vm/state" && rmdir "$V/$vm" || exit 1
	done &&
	rmdir "$MNT/$A/subnets/web" "$MNT/$A" &&
	wait_for 60 no_strays &&
	lab_clean cloud1 && lab_clean cloud2 &&
	maas_umount &&
	lab down
'

test_done
