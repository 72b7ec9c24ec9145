#!/usr/bin/env bash
# The estate as YAML on the lab, with real guests: the examples build
# examples/infra.yaml and perform examples/migration.yaml both ways (plain
# file operations, and one document written to spec.yaml), unchanged; then
# a modified document makes exactly its changes, and an empty one removes
# everything from both clouds.
# tests/run: busy (guests booting and moving keep the CPUs busy)
. "$(dirname "$0")/lib.sh"

A=tenantA   # the examples' names (the lab and the mount are this test's)
B=tenantB

# "tenant/object cloud state" for every subnet and VM of a document in
# spec.yaml's one-object-a-line form: what the tree and a document agree on.
digest() {
	awk '
	/^  [^ #]/ { t = $1; sub(":", "", t) }
	/^      [^ #]/ {
		n = $1; sub(":", "", n); where = ""; st = ""
		if (match($0, /(location|[{ ]cloud): [^,}]*/)) {
			where = substr($0, RSTART, RLENGTH); sub(/.*: /, "", where)
		}
		if (match($0, /state: [^,}]*/)) st = substr($0, RSTART + 7, RLENGTH - 7)
		print t "/" n, where, st
	}' "$1" | sort
}

expect_estate() {
	digest "$1" >"$TMP/want.d" &&
	cat "$MNT/spec.yaml" >"$TMP/spec.now" &&
	digest "$TMP/spec.now" >"$TMP/got.d" &&
	diff -u "$TMP/want.d" "$TMP/got.d"
}

# ident TENANT VM: the guest's "maas-tiny id=X boots=N", asked from the
# tenant's namespace on its subnet's home cloud.
ident() {
	local V=$MNT/$1/vms/$2
	lab_ctl "$(cat "$MNT/$1/subnets/$(cat "$V/subnet")/cloud")" "$1" \
		"$(cat "$V/ip")" id
}

# runs_on TENANT VM CLOUD: libvirt runs it there, and the other cloud has
# no domain of it.
runs_on() {
	local other=cloud1
	[ "$3" = cloud1 ] && other=cloud2
	expect_eq "$3" "$(cat "$MNT/$1/vms/$2/location")" &&
	expect_eq running "$(oncloud "$3" virsh -c qemu:///system domstate "maas:$1:$2")" &&
	! oncloud "$other" virsh -c qemu:///system list --all --name | grep -qx "maas:$1:$2"
}

# Every guest of the estate runs where the document says, with its address,
# and answers from its subnet's home.
guests_up() {
	local t v c
	while read -r t v c; do
		runs_on "$t" "$v" "$c" || return 1
		wait_console 90 "$MNT/$t/vms/$v/console" \
			"maas-tiny id=.* ip=$(cat "$MNT/$t/vms/$v/ip")" || return 1
		ident "$t" "$v" | grep -q "^maas-tiny id=[0-9a-f]* boots=$1$" ||
			{ echo "$t/$v: $(ident "$t" "$v")"; return 1; }
	done <<-EOF
	$A web1 $2
	$A web2 cloud2
	$A db1 $3
	$B app1 $4
	EOF
}

test_expect_success 'lab and mount' '
	lab_up 2 &&
	maas_mount -o "config=$LAB_CONFIG" &&
	wait_for 15 file_is "$MNT/clouds/cloud2/status" up
'

test_expect_success 'create_infra.sh (file operations) builds infra.yaml: tree, kernel, guests' '
	examples/create_infra.sh "$MNT" >"$TMP/create.out" 2>&1 &&
	expect_estate examples/infra.yaml &&
	guests_up 1 cloud1 cloud2 cloud2 &&
	oncloud cloud1 ip -n maas-$A -o addr show | grep -q " 10.0.1.1/24 " &&
	oncloud cloud2 ip -n maas-$A -o addr show | grep -q " 10.0.2.1/24 " &&
	oncloud cloud2 ip -n maas-$B -o addr show | grep -q " 10.0.1.1/24 " &&
	! oncloud cloud1 ip -n maas-$B -o addr show | grep -q " 10.0.1.1/24 " &&
	for s in $A/web $A/db $B/web; do
		grep -q "^running pid [0-9]*$" "$MNT/${s%/*}/subnets/${s#*/}/dhcp/status" || exit 1
	done &&
	expect_eq "cloud1 cloud2" "$(cat "$MNT/$A/subnets/web/clouds" | xargs)"
'

test_expect_success 'perform_migration.sh (file operations) reaches migration.yaml; no guest rebooted' '
	examples/perform_migration.sh "$MNT" >"$TMP/migrate.out" 2>&1 &&
	expect_estate examples/migration.yaml &&
	guests_up 1 cloud2 cloud1 cloud1 &&
	expect_eq cloud1 "$(cat "$MNT/$A/subnets/db/cloud")" &&
	oncloud cloud1 ip -n maas-$A -o addr show | grep -q " 10.0.2.1/24 " &&
	! oncloud cloud2 ip -n maas-$A -o addr show | grep -q " 10.0.2.1/24 "
'

test_expect_success 'create_infra.sh --clean removes it all from both clouds' '
	examples/create_infra.sh --clean "$MNT" >"$TMP/clean.out" 2>&1 &&
	expect_eq "tenants: {}" "$(cat "$MNT/spec.yaml")" &&
	wait_for 20 lab_clean cloud1 && wait_for 20 lab_clean cloud2
'

test_expect_success 'the YAML route: cp infra.yaml, then migration.yaml, to spec.yaml' '
	examples/create_infra.sh --yaml "$MNT" >"$TMP/create2.out" 2>&1 &&
	expect_estate examples/infra.yaml &&
	guests_up 1 cloud1 cloud2 cloud2 &&
	examples/perform_migration.sh --yaml "$MNT" >"$TMP/migrate2.out" 2>&1 &&
	expect_estate examples/migration.yaml &&
	guests_up 1 cloud2 cloud1 cloud1 &&
	cp "$MNT/spec.yaml" "$TMP/before.yaml"
'

test_expect_success 'a modified document: a VM deleted, a stopped one resized, one migrated, a subnet added; only that' '
	sed -e "/^      web2:/d" \
	    -e "/^      db1:/s/disk: 256M/disk: 512M/" \
	    -e "/^      db1:/s/state: running/state: stopped/" \
	    -e "/^      app1:/s/location: cloud1/location: cloud2/" \
	    -e "/^      db:/i\\      cache: {cidr: 10.0.3.0/24, cloud: cloud2}" \
	    "$TMP/before.yaml" >"$TMP/mod.yaml" &&
	n0=$(events_now | wc -l) &&
	id_app=$(ident $B app1) &&
	cp "$TMP/mod.yaml" "$MNT/spec.yaml" &&
	events_now | tail -n +$((n0 + 1)) | cut -d" " -f2- >"$TMP/ops" &&
	cat >"$TMP/ops.want" <<-EOF &&
	/$A/subnets/new write "10.0.3.0/24 name=cache cloud=cloud2 dhcp=on": ok
	/$A/vms/web2/state write "stop": ok
	/$A/vms/web2 rmdir: ok
	/$A/vms/db1/state write "stop": ok
	/$A/vms/db1/disk write "512M": ok
	/$B/vms/app1/location write "cloud2": ok
	/spec.yaml applied: 6 changes
	EOF
	diff -u "$TMP/ops.want" "$TMP/ops" &&
	expect_estate "$TMP/mod.yaml" &&
	! oncloud cloud2 virsh -c qemu:///system list --all --name | grep -qx "maas:$A:web2" &&
	expect_eq "shut off" "$(oncloud cloud1 virsh -c qemu:///system domstate "maas:$A:db1")" &&
	expect_eq 512M "$(cat "$MNT/$A/vms/db1/disk")" &&
	runs_on $B app1 cloud2 &&
	expect_eq "$id_app" "$(ident $B app1)" &&
	runs_on $A web1 cloud2 &&
	oncloud cloud2 ip -n maas-$A -o addr show | grep -q " 10.0.3.1/24 "
'

test_expect_success 'tenants: {} empties both clouds' '
	echo "tenants: {}" >"$MNT/spec.yaml" &&
	expect_eq "tenants: {}" "$(cat "$MNT/spec.yaml")" &&
	wait_for 20 lab_clean cloud1 && wait_for 20 lab_clean cloud2 &&
	maas_umount &&
	lab down
'

test_done
