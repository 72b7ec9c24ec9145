#!/usr/bin/env bash
# Several clouds: the lab (each cloud its own namespaces, libvirtd, sshd),
# remote clouds driven over SSH by maasfs agent, subnets stretched across
# clouds with VXLAN, tenants isolated, outages and bad host keys.
. "$(dirname "$0")/lib.sh"

A=${T}a
B=${T}b
W=$MNT/$A/subnets/web

vni_of() {
	cat "$MNT/$1/subnets/$2/vni"
}

test_expect_success 'maasfs agent copy: one copy after another, each line checked' '
	ag="$MAASFS agent --state $TMP/ag --disks $TMP/ag/disks --images $TMP/ag/images" &&
	mkdir -p "$TMP/ag/disks" &&
	u=01234567-89ab-cdef-0123-456789abcdef &&
	seq 1 20000 >"$TMP/ag/disks/$u.qcow2" &&   # (ends with a newline: so does the frame)
	echo hello >"$TMP/ag/disks/$u.console" &&
	printf "send disks $u.qcow2\nsend disks $u.console\n" | $ag copy >"$TMP/out" &&
	expect_eq 2 "$(grep -ac "^end [0-9a-f]\{64\}$" "$TMP/out")" &&
	grep -aqx hello "$TMP/out" &&
	{ echo "send disks ../../etc/passwd" | $ag copy >"$TMP/out2" 2>&1; expect_eq 2 $?; } &&
	! grep -q "^root:" "$TMP/out2" &&
	{ echo "receive disks $u.qcow2 12x" | $ag copy 2>/dev/null; expect_eq 2 $?; } &&
	{ printf "" | $ag copy; expect_eq 0 $?; }
'

test_expect_success 'lab up 2 twice, then lab down: nothing is left' '
	lab_up 2 && lab up 2 &&
	expect_eq 2 "$(pgrep -fc "sshd -f /var/lib/maas-lab-$T/")" &&
	oncloud cloud1 virsh -c qemu:///system version >/dev/null &&
	oncloud cloud2 ip -br addr show eth0 | grep -q "192.0.2.12/24" &&
	! ip -br addr | grep -q "192.0.2.1/24" &&
	lab down &&
	! ip netns list | grep -q "^lab-$T-" &&
	! grep -q "maas-lab-$T" /proc/mounts &&
	! pgrep -f "/var/lib/maas-lab-$T/" >/dev/null &&
	! test -e "/run/maas-lab-$T" && ! test -e "/var/lib/maas-lab-$T"
'

test_expect_success 'lab up; maasfs over the clouds file; both clouds up' '
	lab_up 2 &&
	maas_mount -o "config=$LAB_CONFIG,vni=$VNI_FIRST-$((VNI_FIRST + 399))" &&
	expect_eq "cloud1 cloud2" "$(ls "$MNT/clouds" | xargs)" &&
	wait_for 15 file_is "$MNT/clouds/cloud1/status" up &&
	wait_for 15 file_is "$MNT/clouds/cloud2/status" up &&
	expect_eq 192.0.2.12 "$(cat "$MNT/clouds/cloud2/vtep")" &&
	expect_eq "cidr 198.51.100.0/24 gateway 198.51.100.1 pool 198.51.100.100-198.51.100.199 bridge brext" \
		"$(cat "$MNT/clouds/cloud2/external")" &&
	oncloud cloud1 ip -o link show ext0 | grep -q " master brext " &&
	lab exec internet busybox ping -c 1 -W 3 203.0.113.10 >/dev/null &&
	expect_eq hello "$(echo hello | lab exec internet timeout 10 busybox nc -w 3 203.0.113.10 7)" &&
	grep -q "^qemu+libssh://root@192.0.2.12/system" "$MNT/clouds/cloud2/uri"
'

test_expect_success 'a subnet at home on cloud1; vm1 there, vm2 placed on cloud2' '
	mkdir "$MNT/$A" &&
	echo "10.0.1.0/24 name=web cloud=cloud1" >"$MNT/$A/subnets/new" &&
	expect_eq cloud1 "$(cat "$W/cloud")" &&
	oncloud cloud1 ip -n "maas-$A" -o addr show | grep -q "10.0.1.1/24" &&
	mkdir "$MNT/$A/vms/vm1" "$MNT/$A/vms/vm2" &&
	expect_eq cloud1 "$(cat "$MNT/$A/vms/vm2/location")" &&
	echo cloud2 >"$MNT/$A/vms/vm2/location" &&
	expect_eq cloud2 "$(cat "$MNT/$A/vms/vm2/location")" &&
	expect_eq "cloud1 cloud2" "$(cat "$W/clouds" | xargs)" &&
	v=$(vni_of "$A" web) &&
	oncloud cloud2 ip -d link show "maasx$v" | grep -q "vxlan id $v local 192.0.2.12" &&
	oncloud cloud2 ip link show "maasx$v" | grep -q "master maasb$v" &&
	oncloud cloud2 bridge fdb show dev "maasx$v" | grep -q "00:00:00:00:00:00 dst 192.0.2.11" &&
	oncloud cloud1 bridge fdb show dev "maasx$v" | grep -q "00:00:00:00:00:00 dst 192.0.2.12" &&
	oncloud cloud2 virsh -c qemu:///system list --all --name | grep -qx "maas:$A:vm2" &&
	! oncloud cloud1 virsh -c qemu:///system list --all --name | grep -qx "maas:$A:vm2" &&
	expect_eq "$A/vm2" "$(cat "$MNT/clouds/cloud2/vms")" &&
	! oncloud cloud2 ip netns list | grep -q "maas-$A"
'

test_expect_success 'both guests take their reserved addresses from the one dnsmasq on cloud1' '
	for vm in vm1 vm2; do
		echo 128M >"$MNT/$A/vms/$vm/memory" &&
		echo start >"$MNT/$A/vms/$vm/state" || exit 1
	done &&
	for vm in vm1 vm2; do
		wait_console 90 "$MNT/$A/vms/$vm/console" \
			"maas-tiny id=.* ip=$(cat "$MNT/$A/vms/$vm/ip")" || exit 1
	done &&
	expect_eq running "$(oncloud cloud2 virsh -c qemu:///system domstate "maas:$A:vm2")" &&
	wait_for 10 grep -q " $(cat "$MNT/$A/vms/vm2/mac") $(cat "$MNT/$A/vms/vm2/ip") " "$W/dhcp/leases" &&
	oncloud cloud1 test -s "/var/lib/maasfs-cloud/agent/dhcp/$(vni_of "$A" web).pid" &&
	! oncloud cloud2 sh -c "ls /var/lib/maasfs-cloud/agent/dhcp/*.pid" 2>/dev/null
'

test_expect_success 'vm2 answers ping from cloud1; the guests reach each other over VXLAN' '
	ip1=$(cat "$MNT/$A/vms/vm1/ip") && ip2=$(cat "$MNT/$A/vms/vm2/ip") &&
	oncloud cloud1 ip netns exec "maas-$A" busybox ping -c 1 -W 3 "$ip2" &&
	expect_eq ok "$(lab_ctl cloud1 "$A" "$ip2" "ping $ip1")" &&
	expect_eq ok "$(lab_ctl cloud1 "$A" "$ip1" "ping $ip2")"
'

test_expect_success 'tenant B, same CIDR on the same clouds: its own lease, no way to A' '
	mkdir "$MNT/$B" &&
	echo "10.0.1.0/24 name=web cloud=cloud1" >"$MNT/$B/subnets/new" &&
	mkdir "$MNT/$B/vms/b1" &&
	echo cloud2 >"$MNT/$B/vms/b1/location" &&
	echo 128M >"$MNT/$B/vms/b1/memory" &&
	echo start >"$MNT/$B/vms/b1/state" &&
	ipb=$(cat "$MNT/$B/vms/b1/ip") &&
	wait_console 90 "$MNT/$B/vms/b1/console" "maas-tiny id=.* ip=$ipb" &&
	wait_for 10 grep -q " $(cat "$MNT/$B/vms/b1/mac") " "$MNT/$B/subnets/web/dhcp/leases" &&
	! grep -q " $(cat "$MNT/$B/vms/b1/mac") " "$W/dhcp/leases" &&
	[ "$(vni_of "$A" web)" != "$(vni_of "$B" web)" ] &&
	expect_eq fail "$(lab_ctl cloud1 "$B" "$ipb" "ping $(cat "$MNT/$A/vms/vm2/ip")")"
'

test_expect_success 'cloud2 out: status down within seconds, placing there fails, nothing changes' '
	lab sshd cloud2 stop &&
	wait_for 15 grep -q "^down: " "$MNT/clouds/cloud2/status" &&
	mkdir "$MNT/$A/vms/vm3" &&
	cp "$STATE/state.yaml" "$TMP/before" &&
	oncloud cloud1 bridge fdb show dev "maasx$(vni_of "$A" web)" >"$TMP/fdb.before" &&
	got=$("$FSOP" write "$MNT/$A/vms/vm3/location" cloud2) ;
	case "$got" in EHOSTUNREACH|ETIMEDOUT) ;; *) echo "got $got"; exit 1 ;; esac &&
	expect_eq cloud1 "$(cat "$MNT/$A/vms/vm3/location")" &&
	cmp "$TMP/before" "$STATE/state.yaml" &&
	oncloud cloud1 bridge fdb show dev "maasx$(vni_of "$A" web)" >"$TMP/fdb.after" &&
	diff "$TMP/fdb.before" "$TMP/fdb.after" &&
	grep -q "write location: E.*: .*192.0.2.12" "$MNT/$A/vms/vm3/status" &&
	lab sshd cloud2 start &&
	wait_for 20 file_is "$MNT/clouds/cloud2/status" up &&
	echo cloud2 >"$MNT/$A/vms/vm3/location" &&
	expect_eq running "$(cat "$MNT/$A/vms/vm2/state")"
'

test_expect_success 'a wrong key in known_hosts: refused, with the reason in status' '
	kh=/run/maas-lab-$T/known_hosts &&
	cp "$kh" "$TMP/kh.good" &&
	ssh-keygen -q -t ed25519 -N "" -f "$TMP/other" &&
	grep -v "^192.0.2.12 " "$TMP/kh.good" >"$kh" &&
	echo "192.0.2.12 $(cut -d" " -f1-2 "$TMP/other.pub")" >>"$kh" &&
	lab sshd cloud2 stop && lab sshd cloud2 start &&
	wait_for 20 grep -q "^down: host key of 192.0.2.12 has changed: refused" \
		"$MNT/clouds/cloud2/status" &&
	cp "$TMP/kh.good" "$kh" &&
	wait_for 20 file_is "$MNT/clouds/cloud2/status" up
'

test_expect_success 'the last VM of a subnet leaves cloud2: bridge, VXLAN, flood entries go' '
	v=$(vni_of "$A" web) &&
	echo stop >"$MNT/$A/vms/vm2/state" &&
	rmdir "$MNT/$A/vms/vm2" &&
	oncloud cloud2 ip link show "maasx$v" >/dev/null &&
	rmdir "$MNT/$A/vms/vm3" &&
	! oncloud cloud2 ip link show "maasb$v" 2>/dev/null &&
	! oncloud cloud2 ip link show "maasx$v" 2>/dev/null &&
	! oncloud cloud1 ip link show "maasx$v" 2>/dev/null &&
	expect_eq cloud1 "$(cat "$W/clouds")" &&
	oncloud cloud1 ip link show "maasb$v" >/dev/null &&
	oncloud cloud2 ip link show "maasb$(vni_of "$B" web)" >/dev/null
'

# The answers a remote cloud's reads need (dnsmasq pids, leases) come
# from a cache the status checker refreshes: every subnet's, however many
# (it once stopped at 256, and the later ones kept their first answer).
C=${T}c
test_expect_success 'a remote cloud with 260 DHCP subnets: the last one made still shows a new lease' '
	mkdir "$MNT/$C" &&
	{
		printf "tenants:\n  %s:\n    vms: {}\n    subnets:\n" "$C"
		for i in $(seq 1 260); do
			echo "      s$i: {cidr: 10.$((100 + i / 200)).$((i % 200)).0/24, cloud: cloud2}"
		done
	} >"$TMP/c.yaml" &&
	cp "$TMP/c.yaml" "$MNT/$C/spec.yaml" &&
	expect_eq 260 "$(ls "$MNT/$C/subnets" | grep -c "^s")" &&
	v=$(vni_of "$C" s260) &&
	wait_for 10 oncloud cloud2 test -s "/var/lib/maasfs-cloud/agent/dhcp/$v.pid" &&
	got=$(lab_dhcp cloud2 "${T}d" "maasb$v") &&
	ip_in_range "$got" 10.101.60.10 10.101.60.250 &&
	wait_for 10 grep -q " $got " "$MNT/$C/subnets/s260/dhcp/leases" &&
	got=$(lab_dhcp cloud2 "${T}d" "maasb$(vni_of "$C" s1)") &&
	wait_for 10 grep -q " $got " "$MNT/$C/subnets/s1/dhcp/leases" &&
	printf "tenants:\n  %s: {subnets: {}, vms: {}}\n" "$C" >"$MNT/$C/spec.yaml" &&
	rmdir "$MNT/$C" &&
	[ -z "$(oncloud cloud2 sh -c "ls /var/lib/maasfs-cloud/agent/dhcp/*.pid" 2>/dev/null | grep -v "/$(vni_of "$B" web).pid")" ]
'

test_expect_success 'deleting everything leaves nothing on either cloud' '
	for vm in "$A/vms/vm1" "$B/vms/b1"; do
		echo stop >"$MNT/$vm/state" && rmdir "$MNT/$vm" || exit 1
	done &&
	rmdir "$W" "$MNT/$B/subnets/web" "$MNT/$A" "$MNT/$B" &&
	lab_clean cloud1 && lab_clean cloud2 &&
	maas_umount &&
	lab down &&
	! ip netns list | grep -q "^lab-$T-"
'

test_done
