#!/usr/bin/env bash
# DHCP and DNS: a real dnsmasq per subnet hands a real client (busybox
# udhcpc in a namespace joined to the subnet's bridge) a lease with the
# gateway as router, a DNS server, the domain and the VXLAN-sized MTU.
. "$(dirname "$0")/lib.sh"

A=${T}a
S=$MNT/$A/subnets/web
C1=${T}c1
C2=${T}c2

test_expect_success 'mount, a tenant and a subnet' '
	maas_mount &&
	mkdir "$MNT/$A" &&
	echo "10.0.1.0/24 name=web" >"$MNT/$A/subnets/new" &&
	expect_eq "domain hosts leases range server status" \
		"$(ls "$S/dhcp" | xargs)" &&
	expect_eq 10.0.1.1 "$(cat "$S/dhcp/server")" &&
	expect_eq "10.0.1.10 10.0.1.250" "$(cat "$S/dhcp/range")" &&
	expect_eq "${A}.maas" "$(cat "$S/dhcp/domain")" &&
	expect_eq "" "$(cat "$S/dhcp/hosts")"
'

test_expect_success 'dnsmasq runs in the tenant namespace with its own files' '
	v=$(cat "$S/vni") &&
	pid=$(dnsmasq_pid "$v") &&
	test -n "$pid" &&
	expect_eq "running pid $pid" "$(head -n1 "$S/dhcp/status")" &&
	expect_eq "$(readlink /proc/$pid/ns/net)" \
		"$(ip netns exec "maas-$A" readlink /proc/self/ns/net)" &&
	tr "\0" "\n" </proc/$pid/cmdline >"$TMP/cmdline" &&
	grep -qx -- "--interface=maasg$v" "$TMP/cmdline" &&
	grep -qx -- "--dhcp-leasefile=$STATE/dhcp/$v.leases" "$TMP/cmdline" &&
	grep -qx -- "--dhcp-hostsfile=/run/maasfs/$(instance)/dnsmasq/$v.hosts" "$TMP/cmdline" &&
	test -f "/run/maasfs/$(instance)/dnsmasq/$v.hosts" &&
	grep -qx -- "--user=dnsmasq" "$TMP/cmdline" &&
	ip netns exec "maas-$A" ss -lun | grep -q "10.0.1.1:53"
'

test_expect_success 'a DHCP client on the bridge gets a lease from the pool' '
	client_add "$C1" "$(cat "$S/bridge")" &&
	client_dhcp "$C1" -x hostname:client1 &&
	ip=$(lease_get "$C1" ip) &&
	ip_in_range "$ip" 10.0.1.10 10.0.1.250 &&
	expect_eq 10.0.1.1 "$(lease_get "$C1" router)" "router" &&
	expect_eq 10.0.1.1 "$(lease_get "$C1" dns)" "dns" &&
	expect_eq 10.0.1.1 "$(lease_get "$C1" serverid)" "server" &&
	expect_eq 1450 "$(lease_get "$C1" mtu)" "mtu" &&
	expect_eq "${A}.maas" "$(lease_get "$C1" domain)" "domain" &&
	expect_eq 255.255.255.0 "$(lease_get "$C1" subnet)" "netmask"
'

test_expect_success 'dhcp/leases shows the lease' '
	ip=$(lease_get "$C1" ip) &&
	mac=$(ip -n "$C1" link show eth0 | awk "/link\\/ether/ {print \$2}") &&
	grep -q " $mac $ip client1 " "$S/dhcp/leases" &&
	expect_eq "$(stat -c %s "$S/dhcp/leases")" "$(wc -c <"$S/dhcp/leases")"
'

test_expect_success 'the DNS server answers for the client by name' '
	ip=$(lease_get "$C1" ip) &&
	ip -n "$C1" addr add "$ip/24" dev eth0 &&
	ip netns exec "$C1" busybox nslookup "client1.${A}.maas" 10.0.1.1 >"$TMP/ns" &&
	grep -q "Address: *$ip" "$TMP/ns" &&
	ip -n "$C1" addr flush dev eth0
'

test_expect_success 'rmdir dhcp stops dnsmasq; mkdir dhcp brings it back' '
	v=$(cat "$S/vni") &&
	old=$(dnsmasq_pid "$v") &&
	rmdir "$S/dhcp" &&
	! test -e "$S/dhcp" &&
	test -z "$(dnsmasq_pid "$v")" &&
	grep -qx "dhcp: off" "$S/status" &&
	! client_dhcp "$C1" -t 2 &&
	grep -q "dhcp: off" "$STATE/state.yaml" &&
	mkdir "$S/dhcp" &&
	new=$(dnsmasq_pid "$v") &&
	test -n "$new" && [ "$new" != "$old" ] &&
	client_dhcp "$C1" &&
	ip_in_range "$(lease_get "$C1" ip)" 10.0.1.10 10.0.1.250
'

test_expect_success 'a new range reaches dnsmasq' '
	v=$(cat "$S/vni") &&
	echo "10.0.1.100 10.0.1.110" >"$S/dhcp/range" &&
	tr "\0" "\n" </proc/$(dnsmasq_pid "$v")/cmdline |
		grep -qx -- "--dhcp-range=10.0.1.100,10.0.1.110,255.255.255.0,12h" &&
	client_add "$C2" "$(cat "$S/bridge")" &&
	client_dhcp "$C2" &&
	ip_in_range "$(lease_get "$C2" ip)" 10.0.1.100 10.0.1.110 &&
	grep -q "range: 10.0.1.100 10.0.1.110" "$STATE/state.yaml"
'

test_expect_success 'a new domain reaches dnsmasq and the clients' '
	echo lab.example >"$S/dhcp/domain" &&
	client_dhcp "$C2" &&
	expect_eq lab.example "$(lease_get "$C2" domain)"
'

test_expect_success 'a bad value changes neither dnsmasq nor the state' '
	v=$(cat "$S/vni") &&
	pid=$(dnsmasq_pid "$v") &&
	cp "$STATE/state.yaml" "$TMP/before" &&
	expect_errno EINVAL write "$S/dhcp/range" "10.0.1.100 10.0.9.9" &&
	expect_errno EINVAL write "$S/dhcp/domain" "lab.example,8.8.8.8" &&
	expect_eq "$pid" "$(dnsmasq_pid "$v")" &&
	cmp "$TMP/before" "$STATE/state.yaml"
'

test_expect_success 'the same value again restarts nothing' '
	v=$(cat "$S/vni") &&
	pid=$(dnsmasq_pid "$v") &&
	echo "10.0.1.100 10.0.1.110" >"$S/dhcp/range" &&
	expect_eq "$pid" "$(dnsmasq_pid "$v")"
'

test_expect_success 'subnets made with dhcp=off have no dnsmasq' '
	echo "10.0.2.0/24 name=quiet dhcp=off" >"$MNT/$A/subnets/new" &&
	v=$(cat "$MNT/$A/subnets/quiet/vni") &&
	test -z "$(dnsmasq_pid "$v")" &&
	! test -e "$MNT/$A/subnets/quiet/dhcp" &&
	rmdir "$MNT/$A/subnets/quiet"
'

test_expect_success 'deleting everything leaves no process or file behind' '
	client_del "$C1" && client_del "$C2" &&
	rmdir "$S" "$MNT/$A" &&
	assert_clean &&
	maas_umount
'

test_expect_success 'a dnsmasq that fails to start: EIO, its reason, nothing left' '
	maas_mount -o dnsmasq=/bin/false &&
	mkdir "$MNT/$A" &&
	expect_errno EIO write "$MNT/$A/subnets/new" "10.0.1.0/24 name=web" &&
	grep -q "write new: EIO: dnsmasq failed (exit 1)" "$MNT/$A/status" &&
	! test -e "$S" &&
	expect_eq "" "$(ip -o link show | grep "maas[bh]$VNI_FIRST\b")" &&
	! ip -n "maas-$A" -o addr show | grep -q 10.0.1.1 &&
	echo "10.0.1.0/24 name=web dhcp=off" >"$MNT/$A/subnets/new" &&
	expect_errno EIO mkdir "$S/dhcp" &&
	grep -q "mkdir dhcp: EIO: dnsmasq failed" "$S/status" &&
	! test -e "$S/dhcp" &&
	rmdir "$S" "$MNT/$A" &&
	assert_clean &&
	maas_umount
'

test_done
