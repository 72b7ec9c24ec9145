#!/usr/bin/env bash
# A plan before any change (issue 19, part 5), on a lab of two clouds with
# real guests: a document written to a tenant's plan file changes nothing
# (libvirt, the disks, the links of both clouds and state.yaml are as they
# were) and reads back as the steps spec.yaml would take, each move with
# the bytes it would copy and live or cold; spec.yaml then takes exactly
# those steps in that order. The concerns that would stop a step are
# named: a target without room, a cloud down, an image on neither cloud
# (and one only on the source is sent along); spec.yaml refuses the same
# document with the concern's errno, nothing done. Bad documents.
# tests/run: busy (guests booting and moving keep the CPUs busy)
. "$(dirname "$0")/lib.sh"

A=${T}a
W=$MNT/$A/subnets/web
V=$MNT/$A/vms
P=$MNT/$A/plan
IMAGES=/var/lib/maasfs-cloud/images
DISKS=/var/lib/maasfs-cloud/disks

# doc [G4-LINE]: the tenant's document: web and its guests on cloud2 (on
# $WEB if set), g3 new; a line for g4 if given.
doc() {
	cat <<-EOF
	tenants:
	  $A:
	    subnets: {web: {cidr: 10.0.1.0/24, cloud: ${WEB:-cloud2}}}
	    vms:
	      g0: {subnet: web, memory: 128M, disk: 64M, state: running}
	      g1: {subnet: web, memory: 128M, disk: 64M, state: running}
	      g2: {subnet: web, memory: 128M, disk: 64M, state: stopped}
	      g3: {subnet: web, memory: 128M, disk: 64M, state: running}
	EOF
	[ -z "${1:-}" ] || echo "      $1"
}

# What a plan must not change: both clouds' domains (and which run), their
# disks, their links and namespaces, and the state file.
world() {
	local c
	for c in cloud1 cloud2; do
		echo "$c:"
		oncloud "$c" virsh -c qemu:///system list --all --name | grep "^maas:" | sort
		oncloud "$c" virsh -c qemu:///system list --state-running --name | grep "^maas:" | sort
		oncloud "$c" ls "$DISKS"
		oncloud "$c" ip -br link | awk '{print $1}' | sort
		oncloud "$c" ip netns list | sort
	done
	md5sum <"$STATE/state.yaml"
}

# plan_of DOC-ARGS...: the document planned; nothing changed meanwhile.
plan_of() {
	world >"$TMP/w0" &&
	doc "$@" >"$P" &&
	world >"$TMP/w1" &&
	expect_eq "$(cat "$TMP/w0")" "$(cat "$TMP/w1")" &&
	plan_has "^document: $A/spec.yaml$"
}

# plan_has PATTERN: a line of the plan file matches (else it is shown).
plan_has() {
	grep -q -- "$1" "$P" && return 0
	echo "no line of the plan matches: $1"
	cat "$P"
	return 1
}

# The "do:" of each step of the plan file (or of file $1).
planned() { sed -n 's/^  [0-9]*: {do: \([^,}]*\).*/\1/p' "${1:-$P}"; }

# The steps the events file shows after time $1, in the plan's words:
# "TIME PATH OP[ "VALUE"]: ok" becomes "OP PATH[ VALUE]".
done_steps() {
	events_now | awk -v t="$1" '$1 > t' |
		sed -n 's/^[^ ]* \([^ ]*\) \(mkdir\|rmdir\|write\)\( "\(.*\)"\)\{0,1\}: ok$/\2 \1 \4/p' |
		sed 's/ $//'
}

# alloc CLOUD VM: the bytes the VM's disk takes there (what libvirt says
# of a file: its blocks of 512).
alloc() {
	oncloud "$1" stat -c '%b' "$DISKS/$(uuid_of "$2").qcow2" | awk '{print $1 * 512}'
}

# The guests answer with the identity they had at first.
same_boots() {
	local g
	for g in g0 g1; do
		expect_eq "$(cat "$TMP/id-$g")" "$(guest_id "$g")" || return 1
	done
}

test_expect_success 'lab of two clouds, mount; web on cloud1, g0 and g1 running, g2 ran and is stopped; the plan file before any plan' '
	lab_up 2 &&
	maas_mount -o "config=$LAB_CONFIG" &&
	for c in cloud1 cloud2; do wait_for 15 file_is "$MNT/clouds/$c/status" up || exit 1; done &&
	mkdir "$MNT/$A" &&
	echo "10.0.1.0/24 name=web cloud=cloud1" >"$MNT/$A/subnets/new" &&
	for g in g0 g1 g2; do
		mkdir "$V/$g" && echo 128M >"$V/$g/memory" && echo 64M >"$V/$g/disk" &&
		echo start >"$V/$g/state" || exit 1
	done &&
	for g in g0 g1 g2; do
		wait_console 120 "$V/$g/console" "maas-tiny id=.* ip=$(vm_ip $g)" || exit 1
	done &&
	for g in g0 g1; do guest_id "$g" >"$TMP/id-$g" || exit 1; done &&
	echo stop >"$V/g2/state" &&
	plan_has "^steps: 0$" && plan_has "^plan: {}$" &&
	grep -q "^steps: 0$" "$MNT/plan"
'

test_expect_success 'a plan changes nothing and lists the steps: the subnet moves with its three guests (bytes: their disks and the memory of the two running), g3 is made and started; the root'"'"'s plan file gives the same' '
	plan_of &&
	plan_has "^steps: 5$" && plan_has "^concerns: 0$" &&
	expect_eq "write /$A/subnets/web/cloud cloud2
mkdir /$A/vms/g3
write /$A/vms/g3/memory 128M
write /$A/vms/g3/disk 64M
write /$A/vms/g3/state start" "$(planned)" &&
	want=$(( $(alloc cloud1 g0) + $(alloc cloud1 g1) + $(alloc cloud1 g2) + 2 * 128 * 1048576 )) &&
	plan_has "^  1: {do: write /$A/subnets/web/cloud cloud2, move: 3 VM(s), bytes: $want}$" &&
	plan_has "^bytes: $want$" &&
	expect_eq cloud1 "$(cat "$W/cloud")" && [ ! -d "$V/g3" ] && same_boots &&
	doc >"$MNT/plan" &&
	grep -q "^document: spec.yaml$" "$MNT/plan" &&
	expect_eq "$(planned)" "$(planned "$MNT/plan")" &&
	world >"$TMP/w2" && expect_eq "$(cat "$TMP/w0")" "$(cat "$TMP/w2")"
'

test_expect_success 'no room on cloud2 (a 40 MiB filesystem on its disks): the concern is ENOSPC, named; spec.yaml refuses the document with ENOSPC, nothing done' '
	oncloud cloud2 mount -t tmpfs -o size=40m "maas-$T" "$DISKS" &&
	plan_of ; r=$? ;
	oncloud cloud2 umount "$DISKS" ; [ $r = 0 ] &&
	plan_has "^concerns: 1$" &&
	plan_has "^  1: {do: write /$A/subnets/web/cloud cloud2, move: 3 VM(s), .*concern: \"ENOSPC: VM g0: cloud cloud2 has [0-9]* MiB free, the disk of g0 needs [0-9]*\"}$" &&
	oncloud cloud2 mount -t tmpfs -o size=40m "maas-$T" "$DISKS" &&
	world >"$TMP/w0" &&
	doc >"$TMP/doc" &&
	"$FSOP" write "$MNT/$A/spec.yaml" "$(cat "$TMP/doc")" >"$TMP/r" 2>&1 ;
	world >"$TMP/w1" ;
	oncloud cloud2 umount "$DISKS" &&
	expect_eq ENOSPC "$(cat "$TMP/r")" &&
	expect_eq "$(cat "$TMP/w0")" "$(cat "$TMP/w1")" &&
	grep -q "ENOSPC.*nothing done: step 1 of its plan (write /$A/subnets/web/cloud cloud2): VM g0: cloud cloud2 has" "$MNT/$A/status" &&
	expect_eq cloud1 "$(cat "$W/cloud")" && same_boots
'

test_expect_success 'cloud2 down (its libvirtd killed): the concerns are EHOSTUNREACH (the moves, the start of g3 there); spec.yaml refuses it, nothing done; cloud2 back' '
	kill "$(cat /var/lib/maas-lab-$T/cloud2/run-libvirt/libvirtd.pid)" &&
	wait_for 30 eval "! file_is $MNT/clouds/cloud2/status up" &&
	plan_of &&
	plan_has "^concerns: 2$" &&
	plan_has "^  1: {do: write /$A/subnets/web/cloud cloud2, move: 3 VM(s), concern: \"EHOSTUNREACH: VM g0: " &&
	plan_has "^  5: {do: write /$A/vms/g3/state start, concern: \"EHOSTUNREACH: " &&
	expect_errno EHOSTUNREACH write "$MNT/$A/spec.yaml" "$(doc)" &&
	expect_eq cloud1 "$(cat "$W/cloud")" && [ ! -d "$V/g3" ] &&
	lab up 2 &&
	wait_for 30 file_is "$MNT/clouds/cloud2/status" up &&
	plan_of && plan_has "^concerns: 0$"
'

test_expect_success 'an image only on the source is sent along (image: sent); one on neither cloud is the concern ENOENT' '
	oncloud cloud1 sh -c "cd $IMAGES && for e in kernel initrd qcow2; do cp tiny.\$e other.\$e; done" &&
	mkdir "$V/g4" && echo other >"$V/g4/image" && echo 64M >"$V/g4/disk" &&
	echo start >"$V/g4/state" && echo stop >"$V/g4/state" &&
	g4="g4: {subnet: web, image: other, disk: 64M, location: cloud2, state: stopped}" &&
	export WEB=cloud1 &&
	plan_of "$g4" &&
	plan_has "^concerns: 0$" &&
	plan_has "{do: write /$A/vms/g4/location cloud2, move: cold, bytes: $(alloc cloud1 g4), image: sent}$" &&
	oncloud cloud1 sh -c "rm $IMAGES/other.*" &&
	plan_of "$g4" &&
	plan_has "{do: write /$A/vms/g4/location cloud2, move: cold, concern: \"ENOENT: image other is on neither cloud cloud1 nor cloud cloud2\"}$" &&
	rmdir "$V/g4" && [ -z "$(domains_on cloud1 | grep ":g4$")" ]
'

test_expect_success 'bad documents: refused as spec.yaml refuses them (EINVAL; ENOENT for a cloud it does not know; EBUSY for a VM whose subnet the document leaves behind), the plan file and status saying why; nothing changed' '
	world >"$TMP/w0" &&
	expect_errno EINVAL write "$P" "tenants: {$A: {vms: {g0: {cpus: 2}}}}" &&
	plan_has "^refused: \"EINVAL: spec.yaml:1:[0-9]*: unknown key .cpus. in a VM\"$" &&
	plan_has "^steps: 0$" && grep -q "unknown key .cpus." "$MNT/$A/status" &&
	expect_errno EINVAL write "$P" "tenants: [" &&
	plan_has "^refused: \"EINVAL: spec.yaml:2:1: " &&
	expect_errno EINVAL write "$P" "tenants: {other: {}}" &&
	plan_has "tenant other goes in its own" &&
	expect_errno ENOENT write "$P" "tenants: {$A: {subnets: {web: {cidr: 10.0.1.0/24, cloud: nosuch}}}}" &&
	plan_has "^refused: \"ENOENT: spec.yaml:1:[0-9]*: subnet web: no cloud nosuch\"$" &&
	expect_errno EBUSY write "$P" "tenants: {$A: {vms: {g0: {}}}}" &&
	plan_has "^refused: \"EBUSY: spec.yaml:1:[0-9]*: VM g0 stays on subnet web, which the document deletes\"$" &&
	world >"$TMP/w1" &&
	expect_eq "$(cat "$TMP/w0")" "$(cat "$TMP/w1")"
'

test_expect_success 'spec.yaml of the same document takes exactly the planned steps, in that order; everything is then on cloud2 (same boots)' '
	plan_of && planned >"$TMP/planned" &&
	t0=$(events_now | tail -1 | cut -d" " -f1) &&
	doc >"$MNT/$A/spec.yaml" &&
	done_steps "$t0" >"$TMP/done" &&
	expect_eq "$(cat "$TMP/planned")" "$(cat "$TMP/done")" &&
	expect_eq cloud2 "$(cat "$W/cloud")" &&
	for g in g0 g1 g3; do
		expect_eq cloud2 "$(cat "$V/$g/location")" &&
		expect_eq running "$(oncloud cloud2 virsh -c qemu:///system domstate "maas:$A:$g")" || exit 1
	done &&
	expect_eq "shut off" "$(oncloud cloud2 virsh -c qemu:///system domstate "maas:$A:g2")" &&
	[ -z "$(domains_on cloud1)" ] && same_boots &&
	plan_of && plan_has "^steps: 0$"
'

test_expect_success 'everything removed; nothing left' '
	for g in g0 g1 g3; do echo stop >"$V/$g/state" || exit 1; done &&
	for g in g0 g1 g2 g3; do rmdir "$V/$g" || exit 1; done &&
	rmdir "$W" "$MNT/$A" &&
	for c in cloud1 cloud2; do lab_clean "$c" || exit 1; done &&
	maas_umount &&
	lab down
'

test_done
