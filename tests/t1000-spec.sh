#!/usr/bin/env bash
# spec.yaml, events and topology.dot on the local cloud: a document read
# and written back changes nothing; a bad one changes nothing and says
# where; a good one makes exactly its difference, through the same file
# operations a user would do (and their events); sed -i, tee, cp and
# Python's os.replace all work; the events stream follows, blocks, polls.
. "$(dirname "$0")/lib.sh"

A=${T}a
B=${T}b
V=$MNT/$A/vms

# The state file without the line that changes on its own (none now).
state_sum() {
	md5sum <"$STATE/state.yaml"
}

# A tenant with two subnets and two stopped VMs, made by hand.
test_expect_success 'mount; an estate made by hand reads back as canonical YAML' '
	vm_setup &&
	maas_mount &&
	mkdir "$MNT/$A" &&
	echo "10.0.1.0/24 name=web" >"$MNT/$A/subnets/new" &&
	echo "10.0.2.0/24 name=db dhcp=off" >"$MNT/$A/subnets/new" &&
	mkdir "$V/vm1" "$V/vm2" &&
	echo web >"$V/vm1/subnet" && echo db >"$V/vm2/subnet" &&
	echo 128M >"$V/vm1/memory" &&
	cat >"$TMP/want" <<-EOF &&
	tenants:
	  $A:
	    external: off
	    subnets:
	      db: {cidr: 10.0.2.0/24, cloud: local, dhcp: off}
	      web: {cidr: 10.0.1.0/24, cloud: local, dhcp: {range: 10.0.1.10 10.0.1.250, domain: $A.maas}}
	    vms:
	      vm1: {subnet: web, vcpus: 1, memory: 128M, disk: 1G, image: tiny, location: local, state: stopped}
	      vm2: {subnet: db, vcpus: 1, memory: 256M, disk: 1G, image: tiny, location: local, state: stopped}
	EOF
	cat "$MNT/spec.yaml" >"$TMP/got" &&
	diff -u "$TMP/want" "$TMP/got" &&
	diff -u "$TMP/want" "$MNT/$A/spec.yaml" &&
	expect_eq "$(wc -c <"$TMP/want")" "$(stat -c %s "$MNT/spec.yaml")"
'

test_expect_success 'spec.yaml written back unchanged: nothing changes, no event' '
	sum=$(state_sum) && kernel_snapshot >"$TMP/k1" &&
	events_now >"$TMP/e1" &&
	cat "$MNT/spec.yaml" >"$TMP/same.yaml" &&
	cp "$TMP/same.yaml" "$MNT/spec.yaml" &&
	cp "$TMP/same.yaml" "$MNT/$A/spec.yaml" &&
	expect_eq "$sum" "$(state_sum)" &&
	kernel_snapshot >"$TMP/k2" && diff "$TMP/k1" "$TMP/k2" &&
	events_now >"$TMP/e2" && diff "$TMP/e1" "$TMP/e2"
'

test_expect_success 'one bad value among many good ones: EINVAL at close, nothing changes, status names the line' '
	sum=$(state_sum) && kernel_snapshot >"$TMP/k1" &&
	cat >"$TMP/bad.yaml" <<-EOF &&
	tenants:
	  $A:
	    subnets:
	      db: {cidr: 10.0.2.0/24, cloud: local, dhcp: off}
	      web: {cidr: 10.0.1.0/24, cloud: local, dhcp: {range: 10.0.1.10 10.0.1.200}}
	      app: {cidr: 10.0.3.0/24}
	    vms:
	      vm1: {subnet: web, vcpus: 2, memory: 12Q}
	      vm3: {subnet: app}
	  $B: {}
	EOF
	! cp "$TMP/bad.yaml" "$MNT/spec.yaml" 2>"$TMP/err" &&
	grep -q "Invalid argument" "$TMP/err" &&
	expect_errno EINVAL write "$MNT/spec.yaml" "$(cat "$TMP/bad.yaml")" &&
	grep -q "^last error: .* write spec.yaml: EINVAL: spec.yaml:8:[0-9]*: memory" "$MNT/status" &&
	events_now | tail -n1 | grep -q "/spec.yaml write: failed EINVAL: spec.yaml:8:[0-9]*: memory" &&
	expect_eq "$sum" "$(state_sum)" &&
	kernel_snapshot >"$TMP/k2" && diff "$TMP/k1" "$TMP/k2" &&
	test ! -e "$MNT/$B"
'

test_expect_success 'other bad documents: each errno, nothing changes' '
	sum=$(state_sum) &&
	expect_errno EINVAL write "$MNT/spec.yaml" "tenants: [a, b]" &&
	expect_errno EINVAL write "$MNT/spec.yaml" "tenants: {$A: {subnets: {web: {cidr: 10.0.9.0/24}}}}" &&
	grep -q "cidr does not change" "$MNT/status" &&
	expect_errno EEXIST write "$MNT/spec.yaml" "tenants: {x: {subnets: {a: {cidr: 10.0.0.0/16}, b: {cidr: 10.0.1.0/24}}}}" &&
	expect_errno ENOENT write "$MNT/spec.yaml" "tenants: {x: {subnets: {a: {cidr: 10.0.0.0/16, cloud: mars}}}}" &&
	expect_errno ENOENT write "$MNT/spec.yaml" "tenants: {x: {vms: {v: {subnet: nope}}}}" &&
	expect_errno EINVAL write "$MNT/spec.yaml" "tenants: {x: {vms: {v: {state: paused}}}}" &&
	expect_errno EINVAL write "$MNT/spec.yaml" "tenants: {\"a;b\": {}}" &&
	expect_errno EINVAL write "$MNT/$A/spec.yaml" "tenants: {$B: {}}" &&
	grep -q "spec.yaml:1:" "$MNT/$A/status" &&
	expect_errno EINVAL write "$MNT/spec.yaml" "# nothing" &&
	expect_errno EINVAL write "$MNT/spec.yaml" "tenants: {x: {}} extra: [" &&
	expect_eq "$sum" "$(state_sum)" &&
	test ! -e "$MNT/x"
'

test_expect_success 'a document applied: exactly its difference, as file operations with their events' '
	n0=$(events_now | wc -l) &&
	sed -e "s/memory: 12Q/memory: 192M/" -e "s/vcpus: 2, //" \
		"$TMP/bad.yaml" >"$TMP/good.yaml" &&
	cat "$TMP/good.yaml" >"$MNT/spec.yaml" &&
	events_now | tail -n +$((n0 + 1)) | cut -d" " -f2- >"$TMP/ev" &&
	cat >"$TMP/ev.want" <<-EOF &&
	/$B mkdir: ok
	/$A/subnets/web/dhcp/range write "10.0.1.10 10.0.1.200": ok
	/$A/subnets/new write "10.0.3.0/24 name=app cloud=local dhcp=on": ok
	/$A/vms/vm2 rmdir: ok
	/$A/vms/vm1/memory write "192M": ok
	/$A/vms/vm3 mkdir: ok
	/$A/vms/vm3/subnet write "app": ok
	/spec.yaml applied: 7 changes
	EOF
	diff -u "$TMP/ev.want" "$TMP/ev" &&
	expect_eq "app db web" "$(ls "$MNT/$A/subnets" | grep -v new | xargs)" &&
	expect_eq "vm1 vm3" "$(ls "$V" | xargs)" &&
	expect_eq 192M "$(cat "$V/vm1/memory")" &&
	expect_eq app "$(cat "$V/vm3/subnet")" &&
	expect_eq "10.0.1.10 10.0.1.200" "$(cat "$MNT/$A/subnets/web/dhcp/range")" &&
	ip -n "maas-$A" -o addr show | grep -q " 10.0.3.1/24 " &&
	test -n "$(dnsmasq_pid "$(cat "$MNT/$A/subnets/app/vni")")" &&
	ip netns list | grep -q "^maas-$B\b" &&
	expect_eq "" "$(virsh -c qemu:///system list --all --name | grep "^maas:$A:vm2$")" &&
	virsh -c qemu:///system dominfo "maas:$A:vm1" | grep -q "^Max memory: *196608 KiB" &&
	cp "$MNT/spec.yaml" "$TMP/after.yaml" &&
	cp "$TMP/after.yaml" "$MNT/spec.yaml" &&
	expect_eq "$((n0 + 8))" "$(events_now | wc -l)"
'

test_expect_success 'sed -i and tee on a tenant spec.yaml apply; no scratch file is left' '
	sed -i "/vm1:/s/vcpus: 1/vcpus: 2/" "$MNT/$A/spec.yaml" &&
	expect_eq 2 "$(cat "$V/vm1/vcpus")" &&
	sed "/vm3:/s/disk: 1G/disk: 2G/" "$MNT/$A/spec.yaml" | tee "$MNT/$A/spec.yaml" >/dev/null &&
	expect_eq 2G "$(cat "$V/vm3/disk")" &&
	expect_eq "external floating id plan quota secgroups spec.yaml status subnets vms" "$(ls "$MNT/$A" | xargs)"
'

test_expect_success 'vim edits a tenant spec.yaml (its backup and probe files are scratch files)' '
	vim=$(command -v vim || command -v vim.tiny) &&
	HOME=$TMP timeout 30 "$vim" -u NONE -i NONE -N -es \
		-c "%s/range: 10.0.1.10 10.0.1.200/range: 10.0.1.10 10.0.1.199/" \
		-c wq "$MNT/$A/spec.yaml" </dev/null &&
	expect_eq "10.0.1.10 10.0.1.199" "$(cat "$MNT/$A/subnets/web/dhcp/range")" &&
	expect_eq "external floating id plan quota secgroups spec.yaml status subnets vms" "$(ls "$MNT/$A" | xargs)"
'

test_expect_success 'a Python write-temp-then-os.replace applies, to spec.yaml and to an attribute' '
	python3 - "$MNT/$A" <<-EOF &&
	import os, sys, tempfile
	d = sys.argv[1]
	doc = open(d + "/spec.yaml").read().replace("memory: 192M", "memory: 160M")
	with tempfile.NamedTemporaryFile("w", dir=d, delete=False) as f:
	    f.write(doc)
	os.replace(f.name, d + "/spec.yaml")
	with tempfile.NamedTemporaryFile("w", dir=d + "/vms/vm3", delete=False) as f:
	    f.write("3\n")
	os.replace(f.name, d + "/vms/vm3/vcpus")
	EOF
	expect_eq 160M "$(cat "$V/vm1/memory")" &&
	expect_eq 3 "$(cat "$V/vm3/vcpus")" &&
	expect_eq "external floating id plan quota secgroups spec.yaml status subnets vms" "$(ls "$MNT/$A" | xargs)" &&
	expect_ok create "$V/vm3/tmpx" &&
	expect_ok write "$V/vm3/tmpx" "999" &&
	expect_errno EINVAL rename "$V/vm3/tmpx" "$V/vm3/vcpus" &&
	expect_eq 3 "$(cat "$V/vm3/vcpus")" &&
	expect_ok unlink "$V/vm3/tmpx" &&
	expect_errno EPERM rename "$V/vm3/vcpus" "$V/vm3/x"
'

# Every close of a copy of the descriptor is a flush: a shell's child
# (a command substitution) closes its copy long before the document is
# whole. Only the opening process's close applies it, or the last close.
G=${T}g
test_expect_success 'a shell group with command substitutions writes spec.yaml: applied once, whole' '
	mkdir "$MNT/$G" &&
	{
		printf "tenants:\n  %s:\n    subnets:\n" "$G"
		for i in 1 2 3; do
			echo "      s$(echo "$i"): {cidr: 10.9.$i.0/24}"
		done
		echo "    vms: {}"
	} >"$MNT/$G/spec.yaml" &&
	expect_eq "s1 s2 s3" "$(ls "$MNT/$G/subnets" | grep "^s" | xargs)" &&
	expect_eq 1 "$(events_now | grep -c "/$G/spec.yaml applied")"
'

test_expect_success 'the opener gone first, the last close (a child'"'"'s) applies the document' '
	printf "tenants:\n  %s:\n    subnets: {s1: {cidr: 10.9.1.0/24}}\n    vms: {}\n" "$G" >"$TMP/g.yaml" &&
	sh -c "exec 3>\"\$1\"; (sleep 0.3; cat \"\$2\" >&3) & exit 0" sh "$MNT/$G/spec.yaml" "$TMP/g.yaml" &&
	wait_for 10 test ! -e "$MNT/$G/subnets/s3" &&
	expect_eq "s1" "$(ls "$MNT/$G/subnets" | grep "^s" | xargs)" &&
	printf "tenants:\n  %s: {subnets: {}, vms: {}}\n" "$G" >"$MNT/$G/spec.yaml" &&
	rmdir "$MNT/$G"
'

test_expect_success 'events: a script'"'"'s operations in order, failures with errno and reason; two readers see them' '
	cat "$MNT/events" >"$TMP/r1" &
	p1=$!
	cat "$MNT/events" >"$TMP/r2" &
	p2=$!
	mkdir "$MNT/${T}c" &&
	! echo 10.0.1.0/33 >"$MNT/${T}c/subnets/new" 2>/dev/null &&
	echo 10.0.1.0/24 >"$MNT/${T}c/subnets/new" &&
	! rmdir "$MNT/${T}c" 2>/dev/null &&
	rmdir "$MNT/${T}c/subnets/10.0.1.0_24" "$MNT/${T}c" &&
	for f in r1 r2; do
		wait_for 10 grep -q "/${T}c rmdir: ok" "$TMP/$f" || exit 1
		grep "/${T}c" "$TMP/$f" | tail -n 6 | cut -d" " -f2- |
			sed "s/\(failed E[A-Z]*\): ..*/\1: why/" >"$TMP/$f.ops"
	done &&
	cat >"$TMP/ops.want" <<-EOF &&
	/${T}c mkdir: ok
	/${T}c/subnets/new write "10.0.1.0/33": failed EINVAL: why
	/${T}c/subnets/new write "10.0.1.0/24": ok
	/${T}c rmdir: failed ENOTEMPTY: why
	/${T}c/subnets/10.0.1.0_24 rmdir: ok
	/${T}c rmdir: ok
	EOF
	diff -u "$TMP/ops.want" "$TMP/r1.ops" &&
	diff -u "$TMP/ops.want" "$TMP/r2.ops" &&
	grep -Eq "^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:.]{12}Z /${T}c mkdir: ok$" "$TMP/r1" &&
	kill $p1 $p2 &&
	wait_for 10 not_running $p1 && wait_for 10 not_running $p2
'

test_expect_success 'events: O_NONBLOCK gives EAGAIN when nothing is new, poll() wakes on the next event' '
	python3 - "$MNT" <<-EOF
	import errno, os, select, sys
	m = sys.argv[1]
	fd = os.open(m + "/events", os.O_RDONLY | os.O_NONBLOCK)
	while True:
	    try:
	        os.read(fd, 65536)
	    except BlockingIOError:
	        break
	p = select.poll()
	p.register(fd, select.POLLIN)
	assert p.poll(100) == [], "poll with nothing new"
	os.mkdir(m + "/${T}d")
	assert p.poll(5000) == [(fd, select.POLLIN)], "poll after an event"
	line = os.read(fd, 65536).decode()
	assert line.endswith(" /${T}d mkdir: ok\n"), line
	os.rmdir(m + "/${T}d")
	EOF
'

test_expect_success 'topology.dot renders with dot and names every VM, subnet and cloud' '
	dot -Tsvg "$MNT/topology.dot" >"$TMP/t.svg" &&
	for w in "$A/vm1" "$A/vm3" "$A/web" "$A/app" "cloud local"; do
		grep -q "$w" "$TMP/t.svg" || { echo "no $w"; exit 1; }
	done &&
	grep -q "VNI $(cat "$MNT/$A/subnets/web/vni")" "$TMP/t.svg"
'

test_expect_success 'tenants: {} deletes the whole estate; nothing is left' '
	echo "tenants: {}" >"$MNT/spec.yaml" &&
	expect_eq "tenants: {}" "$(cat "$MNT/spec.yaml")" &&
	expect_eq "clouds events plan spec.yaml status topology.dot" "$(ls "$MNT" | xargs)" &&
	maas_umount &&
	assert_clean
'

test_done
