#!/usr/bin/env bash
# A provider bridge that is full (issue 18): a Linux bridge holds at most
# 1,023 ports (the kernel's BR_MAX_PORTS is 1,024, port 0 reserved;
# EXFULL beyond): external on is then
# ENOSPC naming the bridge, and nothing is left of the uplink; with a port
# free again it works. The local cloud, its provider bridge made here and
# filled with veth pairs (this kernel has no dummy links; 198.18.0.0/16:
# the benchmarking range, only in the tenant's namespace).
. "$(dirname "$0")/lib.sh"

A=${T}a
BR=${T}br
N=1023

# ports CMD: "ip -batch" lines adding (add) or deleting (del) the veth
# pairs ${T}v0/${T}w0.., the v ends enslaved to BR (not traced: 2,048
# lines)
ports() {
	local i
	{ set +x; } 2>/dev/null
	for ((i = 0; i < N; i++)); do
		if [ "$1" = add ]; then
			echo "link add ${T}v$i type veth peer name ${T}w$i"
			echo "link set ${T}v$i master $BR"
		else
			echo "link del ${T}v$i"
		fi
	done
}

ours_gone() {
	ports del | ip -force -batch - >/dev/null 2>&1
	ip link del "$BR" 2>/dev/null
	test_cleanup
}
trap ours_gone EXIT

test_expect_success 'a provider bridge with 1,023 ports; a mount with it as the local cloud'"'"'s external bridge; a tenant with a subnet' '
	ip link add "$BR" type bridge &&
	ports add | ip -batch - &&
	expect_eq $N "$(ip -o link show master "$BR" | wc -l)" &&
	printf "clouds:\n  local:\n    external: {cidr: 198.18.0.0/16, gateway: 198.18.0.1, pool: 198.18.0.10-198.18.0.20, bridge: %s}\n" \
		"$BR" >"$TMP/clouds.yaml" &&
	maas_mount -o "config=$TMP/clouds.yaml" &&
	mkdir "$MNT/$A" &&
	echo "10.0.1.0/24 name=web dhcp=off" >"$MNT/$A/subnets/new"
'

test_expect_success 'external on: ENOSPC, the bridge named, nothing left of the uplink' '
	id=$(cat "$MNT/$A/id") &&
	expect_errno ENOSPC write "$MNT/$A/external" on &&
	grep -q "ENOSPC: cloud local: bridge $BR is full (a Linux bridge holds at most 1023 ports" "$MNT/$A/status" &&
	expect_eq off "$(cat "$MNT/$A/external")" &&
	! ip link show "maasu$id" 2>/dev/null &&
	! ip -n "maas-$A" link show maasu 2>/dev/null &&
	! grep -q "external:" "$STATE/state.yaml"
'

test_expect_success 'a port free again: external on makes the uplink' '
	ip link del "${T}v0" &&
	echo on >"$MNT/$A/external" &&
	grep -qx "uplink: 198.18.0.10 on local" "$MNT/$A/status" &&
	ip -o link show "maasu$(cat "$MNT/$A/id")" | grep -q " master $BR " &&
	echo off >"$MNT/$A/external"
'

test_expect_success 'everything removed' '
	rmdir "$MNT/$A/subnets/web" "$MNT/$A" &&
	maas_umount
'

test_done
