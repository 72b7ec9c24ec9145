#!/usr/bin/env bash
# Subnets: writing subnets/new makes a bridge in the host namespace, a veth
# into the tenant namespace and the gateway address there; every bad input
# gets its errno and changes nothing.
. "$(dirname "$0")/lib.sh"

A=${T}a
B=${T}b
S=$MNT/$A/subnets/10.0.1.0_24

test_expect_success 'mount and make two tenants' '
	maas_mount &&
	mkdir "$MNT/$A" "$MNT/$B"
'

test_expect_success 'echo CIDR > subnets/new makes the subnet directory' '
	echo 10.0.1.0/24 >"$MNT/$A/subnets/new" &&
	expect_eq "10.0.1.0_24 new" "$(ls "$MNT/$A/subnets" | xargs)" &&
	expect_eq "bridge cidr cloud clouds dhcp gateway status vni" \
		"$(ls "$S" | xargs)" &&
	expect_eq 10.0.1.0/24 "$(cat "$S/cidr")" &&
	expect_eq 10.0.1.1 "$(cat "$S/gateway")" &&
	expect_eq local "$(cat "$S/cloud")" &&
	expect_eq local "$(cat "$S/clouds")" &&
	expect_eq "$VNI_FIRST" "$(cat "$S/vni")" &&
	expect_eq "maasb$VNI_FIRST" "$(cat "$S/bridge")" &&
	head -n1 "$S/status" | grep -qx ready
'

test_expect_success 'the gateway address is in the tenant namespace' '
	ip -n "maas-$A" -o addr show | grep -q "inet 10.0.1.1/24 brd 10.0.1.255" &&
	gw_if=$(ip -n "maas-$A" -o addr show | awk "/10.0.1.1\\/24/ {print \$2}") &&
	expect_eq "maasg$VNI_FIRST" "$gw_if" &&
	ip -n "maas-$A" link show "$gw_if" | grep -q "mtu 1450.*state UP"
'

test_expect_success 'the bridge named by bridge exists, is up, MTU 1450' '
	br=$(cat "$S/bridge") &&
	ip -d link show "$br" | grep -q "bridge " &&
	ip link show "$br" | grep -q "<.*UP.*> mtu 1450" &&
	ip link show "maash$VNI_FIRST" | grep -q "master $br" &&
	ip link show "maash$VNI_FIRST" | grep -q "state UP"
'

test_expect_success 'no tenant address or route in the host namespace' '
	! ip -o addr show | grep -q "10\.0\.1\." &&
	! ip route show | grep -q "10\.0\.1\." &&
	! ip -o addr show dev "maasb$VNI_FIRST" | grep -q inet
'

test_expect_success 'no IPv6 on the host ends: no address, no route' '
	for l in "maasb$VNI_FIRST" "maash$VNI_FIRST"; do
		expect_eq 1 "$(cat /proc/sys/net/ipv6/conf/$l/disable_ipv6)" "$l disable_ipv6" &&
		! ip -6 -o addr show dev "$l" | grep -q inet6 &&
		! ip -6 route show table all dev "$l" | grep -q . || exit 1
	done
'

test_expect_success 'named subnets; another tenant reuses the same CIDR' '
	echo "10.0.2.0/24 name=web dhcp=off" >"$MNT/$A/subnets/new" &&
	expect_eq 10.0.2.0/24 "$(cat "$MNT/$A/subnets/web/cidr")" &&
	! test -e "$MNT/$A/subnets/web/dhcp" &&
	echo 10.0.1.0/24 >"$MNT/$B/subnets/new" &&
	vb=$(cat "$MNT/$B/subnets/10.0.1.0_24/vni") &&
	va=$(cat "$S/vni") &&
	[ "$va" != "$vb" ] &&
	ip -n "maas-$B" -o addr show | grep -q "inet 10.0.1.1/24" &&
	ip link show "maasb$vb" >/dev/null &&
	ip link show "maasb$va" >/dev/null
'

# static_client NAME BRIDGE ADDR/PREFIX GATEWAY: a machine with a fixed address.
static_client() {
	client_add "$1" "$2" &&
	ip -n "$1" addr add "$3" dev eth0 &&
	ip -n "$1" route add default via "$4"
}

test_expect_success 'the tenant namespace routes between its subnets' '
	va=$(cat "$S/vni") && vw=$(cat "$MNT/$A/subnets/web/vni") &&
	expect_eq 1 "$(ip netns exec "maas-$A" cat /proc/sys/net/ipv4/conf/maasg$va/forwarding)" &&
	expect_eq 1 "$(ip netns exec "maas-$A" cat /proc/sys/net/ipv4/conf/maasg$vw/forwarding)" &&
	static_client "${T}c1" "maasb$va" 10.0.1.50/24 10.0.1.1 &&
	static_client "${T}c2" "maasb$vw" 10.0.2.50/24 10.0.2.1 &&
	ip netns exec "${T}c1" busybox ping -c 1 -W 2 10.0.1.1 &&
	ip netns exec "${T}c1" busybox ping -c 1 -W 2 10.0.2.50
'

test_expect_success 'tenants are isolated, even with the same CIDR' '
	vb=$(cat "$MNT/$B/subnets/10.0.1.0_24/vni") &&
	static_client "${T}c3" "maasb$vb" 10.0.1.50/24 10.0.1.1 &&
	ip netns exec "${T}c3" busybox ping -c 1 -W 2 10.0.1.1 &&
	! ip netns exec "${T}c3" busybox ping -c 1 -W 1 10.0.2.50 &&
	ip -n "${T}c1" addr flush dev eth0 &&
	! ip netns exec "${T}c3" busybox ping -c 1 -W 1 10.0.2.1 &&
	client_del "${T}c1" && client_del "${T}c2" && client_del "${T}c3"
'

test_expect_success 'a failure half-way through a creation undoes its steps' '
	next=$((VNI_FIRST + 3)) &&
	ip link add "maash$next" type bridge &&
	cp "$STATE/state.yaml" "$TMP/before" &&
	kernel_snapshot >"$TMP/k.before" &&
	expect_errno EEXIST write "$MNT/$A/subnets/new" 10.0.3.0/24 &&
	grep -q "link maash$next exists and was not made by this maasfs" \
		"$MNT/$A/status" &&
	! ip link show "maasb$next" 2>/dev/null &&
	! test -e "$MNT/$A/subnets/10.0.3.0_24" &&
	cmp "$TMP/before" "$STATE/state.yaml" &&
	kernel_snapshot >"$TMP/k.after" &&
	diff "$TMP/k.before" "$TMP/k.after" &&
	ip link del "maash$next"
'

test_expect_success 'a foreign bridge by the next name: EEXIST, nothing changes' '
	next=$((VNI_FIRST + 3)) &&
	ip link add "maasb$next" type bridge &&
	cp "$STATE/state.yaml" "$TMP/before" &&
	expect_errno EEXIST write "$MNT/$A/subnets/new" 10.0.3.0/24 &&
	grep -q "link maasb$next exists and was not made by this maasfs" \
		"$MNT/$A/status" &&
	! ip link show "maash$next" 2>/dev/null &&
	! test -e "$MNT/$A/subnets/10.0.3.0_24" &&
	cmp "$TMP/before" "$STATE/state.yaml" &&
	ip link show "maasb$next" >/dev/null &&
	ip link del "maasb$next"
'

# maasfs keeps a netlink socket in the last tenant namespace it used; a
# namespace deleted and made again behind its back must not be mistaken
# for it, nor kept alive.
test_expect_success 'a tenant namespace replaced behind maasfs'"'"'s back is not used' '
	echo "10.0.4.0/24 name=c dhcp=off" >"$MNT/$B/subnets/new" &&
	vc=$(cat "$MNT/$B/subnets/c/vni") &&
	ip link show "maash$vc" >/dev/null &&
	cp "$STATE/state.yaml" "$TMP/before" &&
	ip netns pids "maas-$B" | xargs -r kill &&
	ip netns del "maas-$B" &&
	ip netns add "maas-$B" &&
	expect_errno EEXIST write "$MNT/$B/subnets/new" 10.0.5.0/24 &&
	grep -q "namespace maas-$B exists and was not made by this maasfs" \
		"$MNT/$B/status" &&
	cmp "$TMP/before" "$STATE/state.yaml" &&
	wait_for 10 eval "! ip link show maash$vc" &&
	ip netns del "maas-$B" &&
	echo "10.0.5.0/24 dhcp=off" >"$MNT/$B/subnets/new" &&
	ip -n "maas-$B" -o addr show | grep -q "inet 10.0.5.1/24" &&
	ip -n "maas-$B" -o link show lo | grep -q "alias maasfs:" &&
	rmdir "$MNT/$B/subnets/c" "$MNT/$B/subnets/10.0.5.0_24" &&
	maas_umount && maas_mount &&
	ip -n "maas-$B" -o addr show | grep -q "inet 10.0.1.1/24" &&
	head -n1 "$MNT/$B/subnets/10.0.1.0_24/status" | grep -qx ready
'

# One row per bad input: errno, what to write, where.
errno_table() {
	cat <<-EOF
	EINVAL|10.0.1.5/24|new
	EINVAL|10.0.9.0/33|new
	EINVAL|10.0.9.0/7|new
	EINVAL|10.0.9.0/30|new
	EINVAL|300.0.9.0/24|new
	EINVAL|10.0.9.0|new
	EINVAL|127.0.0.0/24|new
	EINVAL|224.0.0.0/24|new
	EINVAL|10.0.9.0/24 vlan=3|new
	EINVAL|10.0.9.0/24 name=a/b|new
	EINVAL|10.0.9.0/24 name=.x|new
	EINVAL|10.0.9.0/24 name=--dhcp-script=/bin/sh|new
	EINVAL|10.0.9.0/24 name=x name=y|new
	EINVAL|10.0.9.0/24 dhcp=yes|new
	EINVAL|10.0.9.0/24 cloud=a;b|new
	EEXIST|10.0.1.0/25|new
	EEXIST|10.0.0.0/16|new
	EEXIST|10.0.9.0/24 name=web|new
	EEXIST|10.0.9.0/24 name=new|new
	ENOENT|10.0.9.0/24 cloud=mars|new
	ENOENT|mars|10.0.1.0_24/cloud
	EACCES|10.0.9.0/24|10.0.1.0_24/cidr
	EACCES|1|10.0.1.0_24/vni
	EACCES|x|10.0.1.0_24/bridge
	EACCES|x|10.0.1.0_24/gateway
	EACCES|x|10.0.1.0_24/status
	EINVAL|10.0.1.1 10.0.1.9|10.0.1.0_24/dhcp/range
	EINVAL|10.0.1.100 10.0.2.9|10.0.1.0_24/dhcp/range
	EINVAL|10.0.1.100|10.0.1.0_24/dhcp/range
	EINVAL|10.0.1.200 10.0.1.100|10.0.1.0_24/dhcp/range
	EINVAL|10.0.1.0 10.0.1.100|10.0.1.0_24/dhcp/range
	EINVAL|10.0.1.10 10.0.1.255|10.0.1.0_24/dhcp/range
	EINVAL|a b.maas|10.0.1.0_24/dhcp/domain
	EINVAL|x.maas --server=8.8.8.8|10.0.1.0_24/dhcp/domain
	EINVAL|-x.maas|10.0.1.0_24/dhcp/domain
	EINVAL|x..maas|10.0.1.0_24/dhcp/domain
	EINVAL|x_y.maas|10.0.1.0_24/dhcp/domain
	EACCES|x|10.0.1.0_24/dhcp/server
	EACCES|x|10.0.1.0_24/dhcp/leases
	EACCES|x|10.0.1.0_24/dhcp/hosts
	EOF
}

test_expect_success 'every bad input gives its errno and changes nothing' '
	cp "$STATE/state.yaml" "$TMP/before" &&
	kernel_snapshot >"$TMP/k.before" &&
	errno_table | while IFS="|" read -r want value file; do
		expect_errno "$want" write "$MNT/$A/subnets/$file" "$value" ||
			exit 1
	done &&
	cmp "$TMP/before" "$STATE/state.yaml" &&
	kernel_snapshot >"$TMP/k.after" &&
	diff "$TMP/k.before" "$TMP/k.after" &&
	expect_eq "10.0.1.0_24 new web" "$(ls "$MNT/$A/subnets" | xargs)"
'

test_expect_success 'a second line, a NUL, an offset are EINVAL' '
	cp "$STATE/state.yaml" "$TMP/before" &&
	expect_errno EINVAL write "$MNT/$A/subnets/new" "$(printf "10.0.8.0/24\n10.0.7.0/24")" &&
	printf "10.0.8.0/24\000" | dd of="$MNT/$A/subnets/new" bs=64 2>/dev/null;
	expect_errno EINVAL pwrite "$MNT/$A/subnets/new" "10.0.8.0/24" &&
	expect_errno EINVAL append "$S/dhcp/domain" "x.maas" &&
	cmp "$TMP/before" "$STATE/state.yaml" &&
	! test -e "$MNT/$A/subnets/10.0.8.0_24"
'

test_expect_success 'the reason of the last failure is in the nearest status' '
	expect_errno EEXIST write "$MNT/$A/subnets/new" 10.0.1.0/25 &&
	grep -q "write new: EEXIST: 10.0.1.0/25 overlaps 10.0.1.0/24 (subnet 10.0.1.0_24)" \
		"$MNT/$A/status" &&
	expect_errno EINVAL write "$S/dhcp/range" "10.0.1.1 10.0.1.9" &&
	grep -q "write range: EINVAL: range 10.0.1.1 10.0.1.9 includes the gateway" \
		"$S/dhcp/status"
'

test_expect_success 'writes are echoed back in canonical form' '
	echo "  10.0.1.100   10.0.1.200  " >"$S/dhcp/range" &&
	expect_eq "10.0.1.100 10.0.1.200" "$(cat "$S/dhcp/range")" &&
	echo "Example.ORG" >"$S/dhcp/domain" &&
	expect_eq example.org "$(cat "$S/dhcp/domain")" &&
	echo local >"$S/cloud" &&
	expect_eq local "$(cat "$S/cloud")"
'

test_expect_success 'rmdir of a subnet removes bridge, veth, address, dnsmasq' '
	v=$(cat "$S/vni") &&
	rmdir "$S" &&
	! test -e "$S" &&
	! ip link show "maasb$v" 2>/dev/null &&
	! ip link show "maash$v" 2>/dev/null &&
	! ip -n "maas-$A" -o addr show | grep -q 10.0.1.1 &&
	test -z "$(dnsmasq_pid "$v")" &&
	! ls "$STATE/dhcp" | grep -q "^$v\."
'

test_expect_success 'deleting everything leaves nothing behind' '
	rmdir "$MNT/$A/subnets/web" "$MNT/$B/subnets/10.0.1.0_24" &&
	rmdir "$MNT/$A" "$MNT/$B" &&
	assert_clean &&
	maas_umount
'

test_done
