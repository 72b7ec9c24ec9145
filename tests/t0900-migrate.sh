#!/usr/bin/env bash
# Migration on the lab, with real guests: live there over TLS and back in
# clear (the guest does not reboot; what crosses the underlay is looked
# at), refused between a cloud with TLS and one without, cold (it does,
# from the same disk), a stopped VM, the image sent along, bad requests;
# then a whole subnet with two guests.
. "$(dirname "$0")/lib.sh"

A=${T}a
W=$MNT/$A/subnets/web
V=$MNT/$A/vms

# What an eavesdropper on the underlay sees of a live migration: the guest
# puts a word in its memory and on its disk, and wiregrep, in the
# underlay's namespace, counts the frames that carry it.
WORD=maasfs$RANDOM$RANDOM$RANDOM
sniff_start() {
	ip netns exec "lab-$T-underlay" "$WIREGREP" "$WORD" 300 "$1" \
		2>"$1.err" >/dev/null &
	echo $! >"$1.pid"
	wait_for 5 grep -q ready "$1.err"
}
# sniff_stop FILE: "frames N bytes B matches M"
sniff_stop() {
	kill -TERM "$(cat "$1.pid")" && wait_for 10 test -s "$1" && cat "$1"
}
sniff_field() { sed -n "s/.* $2 \([0-9]*\).*/\1/p; s/^$2 \([0-9]*\) .*/\1/p" "$1"; }

test_expect_success 'lab, mount, a subnet on cloud1 and a running guest there' '
	lab_up 2 &&
	maas_mount -o "config=$LAB_CONFIG" &&
	wait_for 15 file_is "$MNT/clouds/cloud2/status" up &&
	mkdir "$MNT/$A" &&
	echo "10.0.1.0/24 name=web cloud=cloud1" >"$MNT/$A/subnets/new" &&
	mkdir "$V/vm1" && echo 128M >"$V/vm1/memory" &&
	expect_eq none "$(cat "$V/vm1/migration")" &&
	echo start >"$V/vm1/state" &&
	wait_console 90 "$V/vm1/console" "maas-tiny id=.* ip=$(vm_ip vm1)" &&
	guest_id vm1 >"$TMP/id0" && grep -q "^maas-tiny id=[0-9a-f]* boots=1$" "$TMP/id0"
'

test_expect_success 'live to cloud2 over TLS (the lab gives every cloud tls), the image sent along: same guest, same boot, same MAC and IP; the word never crosses in clear' '
	mac=$(cat "$V/vm1/mac") && ip=$(vm_ip vm1) &&
	oncloud cloud2 sh -c "rm /var/lib/maasfs-cloud/images/tiny.*" &&
	expect_eq ok "$(lab_ctl cloud1 "$A" "$ip" "mark $WORD")" &&
	sniff_start "$TMP/tls" &&
	echo cloud2 >"$V/vm1/location" &&
	sniff_stop "$TMP/tls" &&
	[ "$(sniff_field "$TMP/tls" bytes)" -gt $((8 << 20)) ] &&
	expect_eq 0 "$(sniff_field "$TMP/tls" matches)" &&
	grep -q "live migration from cloud1 to cloud2 over TLS" "$STATE/maasfs.log" &&
	only_on vm1 cloud2 running &&
	oncloud cloud2 test -s /var/lib/maasfs-cloud/images/tiny.initrd &&
	expect_eq running "$(cat "$V/vm1/state")" &&
	grep -qx "result: ok" "$V/vm1/migration" &&
	grep -qx "mode: live" "$V/vm1/migration" &&
	grep -qx "from: cloud1" "$V/vm1/migration" &&
	grep -qx "to: cloud2" "$V/vm1/migration" &&
	grep -qx "transport: tls" "$V/vm1/migration" &&
	grep -q "^bytes: [1-9][0-9]*" "$V/vm1/migration" &&
	grep -q "^time: [0-9]*\.[0-9]* s$" "$V/vm1/migration" &&
	grep -q "^downtime: [0-9]* ms$" "$V/vm1/migration" &&
	expect_eq "$mac" "$(cat "$V/vm1/mac")" && expect_eq "$ip" "$(vm_ip vm1)" &&
	expect_eq "$(cat "$TMP/id0")" "$(guest_id vm1)" &&
	oncloud cloud1 ip netns exec "maas-$A" busybox ping -c 1 -W 3 "$ip" &&
	expect_eq "cloud1 cloud2" "$(cat "$W/clouds" | xargs)" &&
	wait_for 10 grep -q "maas-tiny id=.* boots=1 ip=$ip" "$V/vm1/console" &&
	grep -q "^ *location: cloud2$" "$STATE/state.yaml"
'

test_expect_success 'live back to cloud1 in clear (a clouds file without tls): the word is on the wire (the check above can fail); still no reboot; cloud2 keeps nothing of the subnet' '
	v=$(cat "$W/vni") &&
	sed "/^ *tls:/d" "$LAB_CONFIG" >"$TMP/clear.yaml" &&
	maas_umount && maas_mount -o "config=$TMP/clear.yaml" &&
	wait_for 15 file_is "$MNT/clouds/cloud1/status" up &&
	sniff_start "$TMP/clear" &&
	echo cloud1 >"$V/vm1/location" &&
	sniff_stop "$TMP/clear" &&
	grep -qx "transport: tcp (in clear)" "$V/vm1/migration" &&
	[ "$(sniff_field "$TMP/clear" matches)" -gt 100 ] &&
	only_on vm1 cloud1 running &&
	expect_eq "$(cat "$TMP/id0")" "$(guest_id vm1)" &&
	oncloud cloud1 ip netns exec "maas-$A" busybox ping -c 1 -W 3 "$(vm_ip vm1)" &&
	grep -qx "from: cloud2" "$V/vm1/migration" &&
	expect_eq cloud1 "$(cat "$W/clouds")" &&
	! oncloud cloud2 ip link show "maasb$v" 2>/dev/null &&
	! oncloud cloud1 ip link show "maasx$v" 2>/dev/null
'

test_expect_success 'tls on one cloud only: a live move is refused with EPROTO, nothing changes' '
	sed "/^  cloud2:/,\$ {/^ *tls:/d}" "$LAB_CONFIG" >"$TMP/half.yaml" &&
	grep -q "tls:" "$TMP/half.yaml" &&
	maas_umount && maas_mount -o "config=$TMP/half.yaml" &&
	wait_for 15 file_is "$MNT/clouds/cloud2/status" up &&
	cp "$STATE/state.yaml" "$TMP/before" &&
	expect_errno EPROTO write "$V/vm1/location" cloud2 &&
	cmp "$TMP/before" "$STATE/state.yaml" &&
	grep -q "EPROTO.*cloud1 has tls in the clouds file and cloud2 has not" "$V/vm1/status" &&
	only_on vm1 cloud1 running &&
	maas_umount && maas_mount -o "config=$LAB_CONFIG" &&
	wait_for 15 file_is "$MNT/clouds/cloud2/status" up
'

test_expect_success 'cold to cloud2: the guest reboots there from the same disk' '
	echo "cloud2 mode=cold" >"$V/vm1/location" &&
	only_on vm1 cloud2 running &&
	grep -qx "mode: cold" "$V/vm1/migration" &&
	grep -q "^checksum: sha256:[0-9a-f]\{64\}$" "$V/vm1/migration" &&
	grep -q "^downtime: [0-9]* ms$" "$V/vm1/migration" &&
	id=$(sed -n "s/^maas-tiny id=\([0-9a-f]*\) .*/\1/p" "$TMP/id0") &&
	wait_console 90 "$V/vm1/console" "maas-tiny id=$id boots=2 ip=$(vm_ip vm1)" &&
	expect_eq "maas-tiny id=$id boots=2" "$(guest_id vm1)"
'

test_expect_success 'a stopped VM migrates cold, stays stopped, its disk bit for bit' '
	echo stop >"$V/vm1/state" &&
	u=$(uuid_of vm1) &&
	sum=$(oncloud cloud2 sha256sum "/var/lib/maasfs-cloud/disks/$u.qcow2" | cut -d" " -f1) &&
	echo "cloud1 mode=live" >"$V/vm1/location" &&
	only_on vm1 cloud1 "shut off" &&
	expect_eq stopped "$(cat "$V/vm1/state")" &&
	grep -qx "mode: cold" "$V/vm1/migration" &&
	grep -qx "checksum: sha256:$sum" "$V/vm1/migration" &&
	expect_eq "$sum" "$(oncloud cloud1 sha256sum "/var/lib/maasfs-cloud/disks/$u.qcow2" | cut -d" " -f1)" &&
	grep -q "^downtime: 0 ms$" "$V/vm1/migration"
'

test_expect_success 'bad requests: unknown cloud, bad mode, nothing changes; its own cloud is a no-op' '
	cp "$STATE/state.yaml" "$TMP/before" &&
	expect_errno ENOENT write "$V/vm1/location" cloud9 &&
	expect_errno EINVAL write "$V/vm1/location" "cloud2 mode=fast" &&
	expect_errno EINVAL write "$V/vm1/location" "cloud2 cold" &&
	expect_errno EINVAL write "$V/vm1/location" "-o" &&
	cmp "$TMP/before" "$STATE/state.yaml" &&
	expect_ok write "$V/vm1/location" cloud1 &&
	cmp "$TMP/before" "$STATE/state.yaml" &&
	only_on vm1 cloud1 "shut off"
'

test_expect_success 'subnet migration: gateway, DHCP with its leases, then both guests, go to cloud2' '
	v=$(cat "$W/vni") &&
	mkdir "$V/vm2" && echo 128M >"$V/vm2/memory" &&
	echo start >"$V/vm1/state" && echo start >"$V/vm2/state" &&
	for vm in vm1 vm2; do
		wait_console 90 "$V/$vm/console" "maas-tiny id=.* ip=$(vm_ip $vm)" || exit 1
	done &&
	guest_id vm2 >"$TMP/id2" &&
	wait_for 10 grep -q " $(cat "$V/vm2/mac") $(vm_ip vm2) " "$W/dhcp/leases" &&
	echo cloud2 >"$W/cloud" &&
	expect_eq cloud2 "$(cat "$W/cloud")" &&
	expect_eq cloud2 "$(cat "$W/clouds")" &&
	grep -q "^move: moved from cloud1 to cloud2 with 2 VM(s)" "$W/status" &&
	only_on vm1 cloud2 running && only_on vm2 cloud2 running &&
	oncloud cloud2 ip -n "maas-$A" -o addr show | grep -q "10.0.1.1/24" &&
	oncloud cloud2 test -s "/var/lib/maasfs-cloud/agent/dhcp/$v.pid" &&
	oncloud cloud2 grep -q " $(cat "$V/vm2/mac") $(vm_ip vm2) " \
		"/var/lib/maasfs-cloud/agent/dhcp/$v.leases" &&
	expect_eq "$(cat "$TMP/id2")" "$(guest_id vm2)" &&
	expect_eq ok "$(lab_ctl cloud2 "$A" "$(vm_ip vm1)" "ping 10.0.1.1")" &&
	expect_eq ok "$(lab_ctl cloud2 "$A" "$(vm_ip vm2)" "ping 10.0.1.1")" &&
	got=$(lab_dhcp cloud2 "${T}c" "maasb$v") &&
	ip_in_range "$got" 10.0.1.10 10.0.1.250 &&
	[ "$got" != "$(vm_ip vm1)" ] && [ "$got" != "$(vm_ip vm2)" ]
'

test_expect_success 'cloud1 has no trace of the subnet' '
	v=$(cat "$W/vni") &&
	! oncloud cloud1 ip link show "maasb$v" 2>/dev/null &&
	! oncloud cloud1 ip link show "maasx$v" 2>/dev/null &&
	! oncloud cloud1 ip link show "maash$v" 2>/dev/null &&
	! oncloud cloud1 ip -n "maas-$A" link show "maasg$v" 2>/dev/null &&
	! oncloud cloud1 test -e "/var/lib/maasfs-cloud/agent/dhcp/$v.pid" &&
	! oncloud cloud1 test -e "/var/lib/maasfs-cloud/agent/dhcp/$v.leases" &&
	expect_eq "" "$(domains_on cloud1)" &&
	expect_eq "" "$(oncloud cloud1 ls /var/lib/maasfs-cloud/disks)"
'

test_expect_success 'everything deleted leaves nothing on either cloud' '
	for vm in vm1 vm2; do
		echo stop >"$V/$vm/state" && rmdir "$V/$vm" || exit 1
	done &&
	rmdir "$W" "$MNT/$A" &&
	lab_clean cloud1 && lab_clean cloud2 &&
	maas_umount &&
	lab down
'

test_done
