#!/usr/bin/env bash
# What a guest can make grow stays bounded (issue 17, item 5): a guest that
# floods its DHCP server with requests from made-up MACs gets at most
# DNSMASQ_LEASES_MAX leases (1024), the lease file stays readable whole (so
# address allocation still sees every lease), and dnsmasq's log and a
# console log lose their heads past 1 MiB while their writers go on at the
# new end (the janitor bounds them every 10 s).
. "$(dirname "$0")/lib.sh"

A=${T}a
S=$MNT/$A/subnets/big
C1=${T}c1

leases_n() { grep -c . "$S/dhcp/leases"; }
size_of() { stat -c %s "$1"; }
smaller() { [ "$(size_of "$1")" -lt "$2" ]; }
at_least() { [ "$("$1")" -ge "$2" ]; }

test_expect_success 'a /20 subnet: dnsmasq keeps at most 1024 leases' '
	maas_mount &&
	mkdir "$MNT/$A" &&
	echo "10.8.0.0/20 name=big" >"$MNT/$A/subnets/new" &&
	echo "10.8.0.10 10.8.15.200" >"$S/dhcp/range" &&
	v=$(cat "$S/vni") &&
	pid=$(dnsmasq_pid "$v") &&
	tr "\0" "\n" </proc/$pid/cmdline >"$TMP/cmdline" &&
	grep -qx -- "--dhcp-lease-max=1024" "$TMP/cmdline" &&
	echo "10.8.0.10 10.8.0.99" >"$S/dhcp/range" &&
	pid=$(dnsmasq_pid "$v") &&
	tr "\0" "\n" </proc/$pid/cmdline >"$TMP/cmdline" &&
	grep -qx -- "--dhcp-lease-max=90" "$TMP/cmdline" &&
	echo "10.8.0.10 10.8.15.200" >"$S/dhcp/range"
'

test_expect_success 'a flood of requests from up to 3600 MACs: 1024 leases, no more' '
	client_add "$C1" "$(cat "$S/bridge")" &&
	ip -n "$C1" addr add 10.8.15.250/20 dev eth0 &&
	n=0 &&
	while [ "$(leases_n)" -lt 1024 ] && [ $n -lt 15 ]; do
		ip netns exec "$C1" "$DHCPFLOOD" eth0 "10.8.$n.10" 240 || return 1
		n=$((n + 1))
	done &&
	wait_for 30 at_least leases_n 1024 &&
	ip netns exec "$C1" "$DHCPFLOOD" eth0 10.8.4.10 200 &&
	v=$(cat "$S/vni") &&
	wait_for 10 grep -q "10.8.4.209" "$STATE/dhcp/$v.log" &&
	expect_eq 1024 "$(leases_n)" "leases"
'

test_expect_success 'the lease file is read whole: a new VM address skips every lease' '
	v=$(cat "$S/vni") &&
	expect_eq "$(grep -c . "$STATE/dhcp/$v.leases")" "$(leases_n)" &&
	! grep -q "EFBIG" "$S/dhcp/status"
'

test_expect_success 'dnsmasq log past 1 MiB: its head is cut, dnsmasq writes on' '
	v=$(cat "$S/vni") &&
	log=$STATE/dhcp/$v.log &&
	n=0 &&
	while [ "$(size_of "$log")" -le $((1 << 20)) ] && [ $n -lt 40 ]; do
		ip netns exec "$C1" "$DHCPFLOOD" eth0 10.8.8.10 500 || return 1
		n=$((n + 1))
	done &&
	wait_for 30 smaller "$log" $((1 << 20)) &&
	grep -q "$log passed 1048576 bytes: its head was cut" "$STATE/maasfs.log" &&
	before=$(size_of "$log") &&
	ip netns exec "$C1" "$DHCPFLOOD" eth0 10.8.12.10 1 &&
	wait_for 10 grep -q "10.8.12.10" "$log" &&
	[ "$(size_of "$log")" -gt "$before" ] &&
	expect_eq 1024 "$(leases_n)" "leases"
'

test_expect_success 'a console log past 1 MiB: its head is cut, QEMU-like writer goes on' '
	mkdir -p "$STATE/disks" &&
	con=$STATE/disks/00000000-0000-4000-8000-000000000001.console &&
	exec 5>>"$con" &&
	head -c $((3 << 20)) /dev/zero | tr "\0" "x" >&5 &&
	echo >&5 &&
	wait_for 30 smaller "$con" $((1 << 20)) &&
	echo "after the cut" >&5 &&
	expect_eq "after the cut" "$(tail -n 1 "$con")" &&
	[ "$(size_of "$con")" -lt $((1 << 20)) ] &&
	exec 5>&- &&
	rm -f "$con"
'

test_expect_success 'deleting everything leaves no process or file behind' '
	client_del "$C1" &&
	rmdir "$S" "$MNT/$A" &&
	assert_clean &&
	maas_umount
'

test_done
