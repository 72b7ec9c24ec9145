#!/usr/bin/env bash
# Any state directory works: one that only root may enter (a mktemp -d
# folder, mode 0700, as /root/maas would be). dnsmasq, which reads its
# reservations after dropping its privileges, hands out leases and
# reservations and answers DNS by name; a VM is defined at once; a start
# that QEMU's user could not carry out (it may not enter the disk folder)
# fails at once with EACCES and what to do, and makes nothing. Where the
# dnsmasq user cannot read its folder at all, the mount is refused with
# the reason.
. "$(dirname "$0")/lib.sh"

A=${T}a
S=$MNT/$A/subnets/web
C1=${T}c1
PRIV=$TMP/private
mkdir -m 700 "$PRIV"
STATE=$PRIV/state   # (lib.sh's mount, checks and cleanup follow it)

test_expect_success 'a state directory only root may enter; a subnet with DHCP' '
	vm_setup && expect_eq 700 "$(stat -c %a "$PRIV")" &&
	maas_mount &&
	mkdir "$MNT/$A" && echo "10.0.1.0/24 name=web" >"$MNT/$A/subnets/new" &&
	client_add "$C1" "$(cat "$S/bridge")" &&
	client_dhcp "$C1" &&
	ip_in_range "$(lease_get "$C1" ip)" 10.0.1.10 10.0.1.250 &&
	ip -n "$C1" addr add "$(lease_get "$C1" ip)/24" dev eth0
'

test_expect_success 'a VM: its reservation reaches dnsmasq, its name resolves' '
	mkdir "$MNT/$A/vms/vm1" &&
	ip=$(cat "$MNT/$A/vms/vm1/ip") && test -n "$ip" &&
	grep -q "^$(cat "$MNT/$A/vms/vm1/mac") $ip vm1$" "$S/dhcp/hosts" &&
	got=$(ip netns exec "$C1" busybox nslookup vm1.$A.maas 10.0.1.1 2>&1) &&
	echo "$got" | grep -q "Address.*$ip" &&
	! grep -q "cannot read\|failed to load" "$STATE"/dhcp/*.log &&
	! grep -q "last error" "$S/status"
'

test_expect_success 'the reservations are dnsmasq user'"'"'s alone' '
	d=/run/maasfs/$(instance)/dnsmasq &&
	test -s "$d/$(cat "$S/vni").hosts" &&
	expect_eq "dnsmasq 700" "$(stat -c "%U %a" "$d")"
'

test_expect_success 'start: QEMU may not enter the disk folder: EACCES at once, nothing made' '
	expect_errno EACCES write "$MNT/$A/vms/vm1/state" start &&
	grep -q "last error: .*EACCES: cloud local: QEMU runs as .*, which may not enter $PRIV: give it search permission (setfacl" \
		"$MNT/$A/vms/vm1/status" &&
	expect_eq stopped "$(cat "$MNT/$A/vms/vm1/state")" &&
	expect_eq "" "$(ls -A "$STATE/disks" 2>/dev/null)"
'

test_expect_success 'everything removed; unmounted' '
	rmdir "$MNT/$A/vms/vm1" "$S" "$MNT/$A" &&
	client_del "$C1" && assert_clean &&
	inst=$(instance) && maas_umount &&
	test ! -e "/run/maasfs/$inst"
'

# In a mount namespace of its own whose /run/maasfs only root may enter
# (a folder someone made 0700), the dnsmasq user could read nothing:
# maasfs says so and does not mount.
test_expect_success 'dnsmasq user cannot read its folder: the mount is refused, with why' '
	cat >"$TMP/refused.sh" <<-EOF &&
	mount -t tmpfs -o mode=700 t0410 /run/maasfs || exit 2
	timeout 30 "$MAASFS" -f -o "state=$TMP/state2,vni=$VNI_FIRST-$VNI_LAST" "$MNT"
	EOF
	mkdir -p /run/maasfs &&
	! unshare -m --propagation private sh "$TMP/refused.sh" >"$TMP/refused.out" 2>&1 &&
	cat "$TMP/refused.out" &&
	grep -q "dnsmasq drops its privileges to user dnsmasq, who cannot read files in /run/maasfs/.*/dnsmasq: Permission denied" \
		"$TMP/refused.out" &&
	! grep -q " $MNT " /proc/mounts
'

test_done
