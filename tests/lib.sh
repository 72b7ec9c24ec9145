# Library of the integration tests, in the manner of git's t/test-lib.sh:
#
#   . "$(dirname "$0")/lib.sh"
#   test_expect_success 'what it shows' '
#       step && step && step
#   '
#   test_done
#
# Each script mounts maasfs for real in a temporary directory with a
# temporary state directory and its own VNI range, and checks what the
# kernel, dnsmasq and a DHCP client show. It cleans up what it made, and
# only that: namespaces and links carrying its instance's marker, its
# dnsmasq processes, and its own client namespaces (named t<NNNN>...).
# Output is TAP; exit 77 skips the whole script.

set -u
TEST_NAME=$(basename "$0" .sh)
TEST_NUM=$(echo "$TEST_NAME" | sed -n 's/^t\([0-9]\{4\}\).*/\1/p')
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
MAASFS=$ROOT/$BUILD/maasfs
FSOP=$ROOT/$BUILD/tests/fsop
DHCPFLOOD=$ROOT/$BUILD/tests/dhcpflood
WIREGREP=$ROOT/$BUILD/tests/wiregrep
T=t$TEST_NUM                          # prefix of this test's names
VNI_FIRST=$((10#$TEST_NUM * 100))     # t0300: VNIs 30000-30099
VNI_LAST=$((VNI_FIRST + 99))

test_count=0
test_failures=0

skip_all() {
	echo "1..0 # SKIP $*"
	exit 77
}

[ "$(id -u)" = 0 ] || skip_all "integration tests need root"
[ -c /dev/fuse ] || skip_all "no /dev/fuse"
[ -x "$MAASFS" ] || skip_all "maasfs is not built"
[ -x "$FSOP" ] || skip_all "$FSOP is not built"
command -v dnsmasq >/dev/null || [ -x /usr/sbin/dnsmasq ] || skip_all "no dnsmasq"

TMP=$(mktemp -d "/tmp/maasfs-$TEST_NAME.XXXXXX")
chmod 711 "$TMP"   # QEMU runs as libvirt-qemu and must reach STATE/disks
MNT=$TMP/mnt
STATE=$TMP/state
LOG=$TMP/log
mkdir -p "$MNT"
: >"$LOG"

# ---- assertions and steps ----

test_expect_success() {
	local desc=$1 body=$2 t0=$SECONDS
	test_count=$((test_count + 1))
	echo "== $test_count: $desc" >>"$LOG"
	if (set -ex; eval "$body") >>"$LOG" 2>&1; then
		echo "ok $test_count - $desc"
	else
		echo "not ok $test_count - $desc"
		test_failures=$((test_failures + 1))
		sed -n "/^== $test_count: /,\$p" "$LOG" | tail -n 30 | sed 's/^/#   /'
	fi
	echo "# $test_count took $((SECONDS - t0)) s"   # (a TAP comment)
}

test_done() {
	echo "1..$test_count"
	[ "$test_failures" -eq 0 ]
	exit $?
}

# expect_errno ERRNAME OP PATH [ARG]: one syscall fails with that errno.
expect_errno() {
	local want=$1 got
	shift
	got=$("$FSOP" "$@" 2>&1) || true
	if [ "$got" != "$want" ]; then
		echo "fsop $*: got '$got', expected $want"
		return 1
	fi
}

# expect_ok OP PATH [ARG]
expect_ok() {
	local got
	got=$("$FSOP" "$@" 2>&1)
	if [ "$got" != OK ]; then
		echo "fsop $*: got '$got', expected OK"
		return 1
	fi
}

# wait_for SECONDS CMD...: polls CMD until it succeeds (no sleeps that
# hide races: a deadline, and the last output on failure).
wait_for() {
	local deadline=$(($(date +%s%N) / 1000000 + $1 * 1000))
	shift
	while ! "$@" >/dev/null 2>&1; do
		if [ $(($(date +%s%N) / 1000000)) -ge "$deadline" ]; then
			echo "timed out waiting for: $*"
			"$@"
			return 1
		fi
		sleep 0.02
	done
}

# file_is FILE VALUE: the file reads VALUE now (for wait_for).
file_is() {
	[ "$(cat "$1" 2>/dev/null)" = "$2" ]
}

# expect_eq WANT GOT [WHAT]
expect_eq() {
	if [ "$1" != "$2" ]; then
		echo "${3:-value}: expected '$1', got '$2'"
		return 1
	fi
}

# ---- maasfs ----

MAAS_PID=

maas_mount() {
	"$MAASFS" -o "state=$STATE,vni=$VNI_FIRST-$VNI_LAST" "$@" "$MNT" || return 1
	MAAS_PID=$(maas_pid)
	[ -n "$MAAS_PID" ] && mountpoint -q "$MNT"
}

maas_pid() {
	pgrep -f -- "state=$STATE,vni=" | head -n1
}

maas_umount() {
	local pid
	pid=$(maas_pid)
	fusermount3 -u "$MNT" || return 1
	[ -z "$pid" ] || wait_for 10 not_running "$pid"
}

maas_kill9() {
	local pid
	pid=$(maas_pid)
	[ -n "$pid" ] && kill -9 "$pid" && wait_for 10 not_running "$pid"
}

not_running() {
	! kill -0 "$1" 2>/dev/null
}

instance() {
	sed -n 's/^instance: //p' "$STATE/state.yaml" 2>/dev/null
}

# The pid of the dnsmasq of a VNI (from its command line, not trusting the
# pid file), empty if none runs.
dnsmasq_pid() {
	pgrep -f -- "--pid-file=$STATE/dhcp/$1.pid" | head -n1
}

dnsmasq_count() {
	pgrep -f -- "--pid-file=$STATE/dhcp/" | wc -l
}

# Kernel objects of this test's instance: namespaces and root-namespace
# links that carry its marker.
our_netns() {
	local inst ns
	inst=$(instance)
	[ -n "$inst" ] || return 0
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep '^maas-'); do
		if ip -n "$ns" -d link show lo 2>/dev/null |
			grep -q "alias maasfs:$inst"; then
			echo "$ns"
		fi
	done
}

our_links() {
	local inst
	inst=$(instance)
	[ -n "$inst" ] || return 0
	ip -d -o link show 2>/dev/null | grep "alias maasfs:$inst" |
		awk -F': ' '{print $2}' | sed 's/@.*//'
}

# The names of this test's links in the root namespace: those that carry
# its instance's marker, and those named after its VNIs (t0300: maasb30000
# to maasb30099) or after the test (client links t0300...).
LINK_RE="^[a-z]+${VNI_FIRST%??}[0-9]{2}\$|$T"

# A picture of this test's kernel side, to compare before and after (other
# tests may run beside it: their names are not in it).
kernel_snapshot() {
	ip netns list | awk '{print $1}' | grep -e "$T" | sort
	{
		ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' |
			grep -E "$LINK_RE"
		our_links
	} | sort -u
	for ns in $(our_netns); do
		ip -n "$ns" -o addr show | awk '{print $2, $4}' | sort
	done
	pgrep -f -- "--pid-file=$STATE/dhcp/" | sort
}

# Nothing of this instance is left: no namespace, link, dnsmasq, file.
assert_clean() {
	local left
	left="$(our_netns)$(our_links)"
	if [ -n "$left" ]; then
		echo "left behind: $left"
		return 1
	fi
	if [ "$(dnsmasq_count)" -ne 0 ]; then
		echo "dnsmasq still running:"
		pgrep -af -- "--pid-file=$STATE/dhcp/"
		return 1
	fi
	if [ -n "$(ls -A "$STATE/dhcp" 2>/dev/null)" ]; then
		echo "files left in $STATE/dhcp: $(ls "$STATE/dhcp")"
		return 1
	fi
	if [ -n "$(our_domains)" ]; then
		echo "domains left: $(our_domains)"
		return 1
	fi
	if [ -n "$(ls -A "$STATE/disks" 2>/dev/null)" ]; then
		echo "disks left: $(ls "$STATE/disks")"
		return 1
	fi
}

# Every line the events file holds now (a new reader gets them all, then
# would wait: O_NONBLOCK stops at EAGAIN).
events_now() {
	python3 -c '
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_NONBLOCK)
out = b""
while True:
    try:
        b = os.read(fd, 65536)
    except BlockingIOError:
        break
    if not b:
        break
    out += b
sys.stdout.write(out.decode())' "$MNT/events"
}

# ---- libvirt and guests ----

# libvirtd runs (started if absent) and the tiny image is in STATE/images.
vm_setup() {
	"$ROOT/examples/lab/lab" libvirtd &&
	"$ROOT/examples/lab/lab" image "$STATE/images"
}

# This test's domains (every tenant name of a test starts with $T).
our_domains() {
	virsh -c qemu:///system list --all --name 2>/dev/null | grep "^maas:$T" || true
}

domstate() {
	virsh -c qemu:///system domstate "maas:$1:$2" 2>/dev/null
}

# The pid of a guest's qemu, from its command line.
qemu_pid() {
	pgrep -f -- "guest=maas:$1:$2," | head -n1
}

# wait_console SECONDS FILE PATTERN: the console shows PATTERN.
wait_console() {
	wait_for "$1" grep -q "$3" "$2"
}

# console_tail VMDIR: the last lines of a VM's console, as comments (what
# a guest said before it rebooted, when a test finds it did); a console
# first asked for on its cloud comes a moment later
console_tail() {
	wait_for 5 grep -q . "$1/console" || true
	echo "# the console of $1:"
	tail -n "${2:-40}" "$1/console" 2>&1 | sed 's/^/#   | /'
}

# tcg_panic VMDIR IDFILE NOW: the guest answers NOW, its identity of
# IDFILE booted once more, because its kernel panicked (its console says
# so) under TCG with a QEMU older than 9.0, which loses guest memory in
# live migrations (README, What maasfs makes: a live migration under TCG;
# QEMU's bug, not maasfs's): said, its console shown, NOW kept in IDFILE
# from then on. Anything else (another id, more boots, no panic) fails.
# (A console is fetched in the background once asked for: the first read
# of a VM's console on a cloud may be empty, hence the wait.)
tcg_panic() {
	local old new=$3 major
	old=$(cat "$2")
	major=$(qemu-system-x86_64 --version | sed -n 's/^QEMU emulator version \([0-9]*\)\..*/\1/p')
	[ -n "$major" ] && [ "$major" -lt 9 ] &&
	[ -n "$new" ] && [ "${old% boots=*}" = "${new% boots=*}" ] &&
	[ "${new##*boots=}" = "$((${old##*boots=} + 1))" ] &&
	wait_for 10 grep -q "Kernel panic - not syncing" "$1/console" || return 1
	echo "# ${1##*/} rebooted after a kernel panic (QEMU $major under TCG loses guest memory in live migrations): kept as $new"
	console_tail "$1" 14
	echo "$new" >"$2"
}

# Sends one command to the guest's control port from the tenant namespace.
guest_ctl() {
	echo "$3" | timeout 10 ip netns exec "maas-$1" busybox nc -w 3 "$2" 7777
}

# ---- the lab: this test's own (MAAS_LAB=$T), beside any other ----

LAB_CONFIG=/run/maas-lab-$T/clouds.yaml

lab() {
	MAAS_LAB=$T "$ROOT/examples/lab/lab" "$@"
}

# (steps run in subshells: the cleanup learns of the lab from a file)
lab_up() {
	: >"$TMP/lab-made"
	lab up "$@"
}

# oncloud CLOUD CMD...: CMD in the cloud's namespaces.
oncloud() {
	lab exec "$@"
}

# lab_ctl CLOUD TENANT GUEST-IP COMMAND: the guest's control port, from
# the tenant's namespace on that cloud.
lab_ctl() {
	echo "$4" | oncloud "$1" timeout 15 ip netns exec "maas-$2" \
		busybox nc -w 5 "$3" 7777
}

# lab_dhcp CLOUD NAME BRIDGE: one DHCP exchange from a namespace NAME of
# the cloud whose eth0 is on BRIDGE there; prints the address offered and
# leaves nothing behind.
lab_dhcp() {
	oncloud "$1" sh -c '
		ip netns add "$1" &&
		ip link add "${1}v" type veth peer name eth0 netns "$1" &&
		ip link set "${1}v" master "$2" up &&
		ip -n "$1" link set eth0 up &&
		got=$(ip netns exec "$1" busybox udhcpc -i eth0 -n -q -f -t 8 \
			-T 1 -A 1 -B -s /bin/true 2>&1 |
			sed -n "s/.*lease of \([0-9.]*\) obtained.*/\1/p")
		ip link del "${1}v" 2>/dev/null
		ip netns del "$1" 2>/dev/null
		echo "$got"
		[ -n "$got" ]
	' lab_dhcp "$2" "$3"
}

# ---- VMs of tenant $A on the lab (the migration tests) ----

vm_ip() { cat "$MNT/$A/vms/$1/ip"; }

# The guest's identity from its control port: "maas-tiny id=X boots=N",
# asked from the tenant's namespace on the subnet's home cloud.
guest_id() {
	lab_ctl "$(cat "$MNT/$A/subnets/web/cloud")" "$A" "$(vm_ip "$1")" id
}

domains_on() {
	oncloud "$1" virsh -c qemu:///system list --all --name | grep "^maas:$A:" || true
}

uuid_of() {
	sed -n 's/^domain: [^ ]* //p' "$MNT/$A/vms/$1/status"
}

# disk_on CLOUD VM: 1 if the cloud has the VM's disk, else 0.
disk_on() {
	oncloud "$1" ls /var/lib/maasfs-cloud/disks | grep -c "^$(uuid_of "$2")\.qcow2$" || true
}

# only_on VM CLOUD STATE: libvirt has the VM on CLOUD in STATE, and the
# other cloud has neither its domain nor its disk.
only_on() {
	local other=cloud1
	[ "$2" = cloud1 ] && other=cloud2
	expect_eq "$2" "$(cat "$MNT/$A/vms/$1/location")" &&
	expect_eq "$3" "$(oncloud "$2" virsh -c qemu:///system domstate "maas:$A:$1")" &&
	expect_eq 1 "$(disk_on "$2" "$1")" &&
	! domains_on "$other" | grep -qx "maas:$A:$1" &&
	expect_eq 0 "$(disk_on "$other" "$1")"
}

# clean_on CLOUD: no domain of $A and nothing in the disk directory.
clean_on() {
	[ -z "$(domains_on "$1")" ] &&
	[ -z "$(oncloud "$1" ls -A /var/lib/maasfs-cloud/disks)" ]
}

# Nothing of this test's estate is left on a lab cloud.
lab_clean() {
	local c=$1 left
	left=$(oncloud "$c" ip -br link | awk '{print $1}' | grep '^maas' || true)
	left=$left$(oncloud "$c" ip netns list | grep '^maas-' || true)
	left=$left$(oncloud "$c" virsh -c qemu:///system list --all --name | grep "^maas:" || true)
	# (pgrep would see every cloud's processes: one PID namespace)
	left=$left$(oncloud "$c" sh -c 'ls /var/lib/maasfs-cloud/agent/dhcp/*.pid' 2>/dev/null || true)
	if [ -n "$left" ]; then
		echo "left on $c: $left"
		return 1
	fi
}

# ---- DHCP clients ----

# client_add NAME BRIDGE: a namespace NAME whose eth0 is joined to BRIDGE
# (in this namespace, where maasfs puts subnet bridges) by a veth.
client_add() {
	ip netns add "$1" &&
		ip link add "${1}v" type veth peer name eth0 netns "$1" &&
		ip link set "${1}v" master "$2" up &&
		ip -n "$1" link set lo up &&
		ip -n "$1" link set eth0 up
}

client_del() {
	ip link del "${1}v" 2>/dev/null
	ip netns del "$1" 2>/dev/null
	return 0
}

# client_dhcp NAME [udhcpc options]: one DHCP exchange with busybox udhcpc;
# the lease's fields land in $TMP/NAME.lease as shell assignments.
# (-B: broadcast replies; unicast ones do not reach a raw socket on veth.)
client_dhcp() {
	local name=$1
	shift
	cat >"$TMP/udhcpc.script" <<-'EOF'
	#!/bin/sh
	if [ "$1" = bound ] || [ "$1" = renew ]; then
		for v in ip router mtu dns domain subnet lease serverid; do
			eval "echo $v=\\\"\$$v\\\""
		done >"$LEASE_OUT"
	fi
	exit 0
	EOF
	chmod +x "$TMP/udhcpc.script"
	rm -f "$TMP/$name.lease"
	LEASE_OUT=$TMP/$name.lease ip netns exec "$name" \
		busybox udhcpc -i eth0 -n -q -f -t 8 -T 1 -A 1 -B -O mtu \
		-s "$TMP/udhcpc.script" "$@" &&
		[ -s "$TMP/$name.lease" ]
}

# lease_get NAME FIELD
lease_get() {
	sed -n "s/^$2=\"\(.*\)\"$/\1/p" "$TMP/$1.lease"
}

# ip_in_range IP FIRST LAST
ip_to_int() {
	local IFS=.
	set -- $1
	echo $((($1 << 24) + ($2 << 16) + ($3 << 8) + $4))
}
ip_in_range() {
	local x f l
	x=$(ip_to_int "$1") f=$(ip_to_int "$2") l=$(ip_to_int "$3")
	[ "$x" -ge "$f" ] && [ "$x" -le "$l" ]
}

# ---- cleanup: only what this test made ----

test_cleanup() {
	local inst ns l pid
	inst=$(instance)
	if [ -e "$TMP/lab-made" ]; then
		fusermount3 -uz "$MNT" 2>/dev/null
		lab down >/dev/null 2>&1
	fi
	if mountpoint -q "$MNT" 2>/dev/null || grep -q " $MNT " /proc/mounts; then
		fusermount3 -uz "$MNT" 2>/dev/null
	fi
	pid=$(maas_pid)
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$T"); do
		client_del "$ns"
	done
	pkill -f -- "--pid-file=$STATE/dhcp/" 2>/dev/null
	if command -v virsh >/dev/null; then
		for l in $(our_domains); do
			virsh -c qemu:///system destroy "$l" >/dev/null 2>&1
			virsh -c qemu:///system undefine --nvram "$l" >/dev/null 2>&1
		done
		# transient pools left by a killed maasfs, over our directories
		for l in $(virsh -c qemu:///system pool-list --name 2>/dev/null |
			grep '^maasfs-'); do
			if virsh -c qemu:///system pool-dumpxml "$l" 2>/dev/null |
				grep -q "<path>$TMP/"; then
				virsh -c qemu:///system pool-destroy "$l" >/dev/null 2>&1
			fi
		done
	fi
	if [ -n "$inst" ]; then
		rm -rf "/run/maasfs/$inst"
		for l in $(our_links); do
			ip link del "$l" 2>/dev/null
		done
		for ns in $(our_netns); do
			ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
			ip netns del "$ns" 2>/dev/null
		done
	fi
	# a failure shows the end of maasfs's own log too
	if [ "$test_failures" -gt 0 ] && [ -s "$STATE/maasfs.log" ]; then
		# a maasfs that died said where (lib/log.c), maybe long before
		if grep -q ": fatal: " "$STATE/maasfs.log"; then
			echo "# --- maasfs died: its fatal lines ---"
			grep -A40 -m1 ": fatal: " "$STATE/maasfs.log" | sed 's/^/#   /'
		fi
		echo "# --- the last lines of maasfs.log ---"
		tail -n "${TEST_LOG_LINES:-40}" "$STATE/maasfs.log" | sed 's/^/#   /'
	fi
	# KEEP_TMP=1 keeps it (the state, the log, what a test wrote) to look at
	[ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"
}
trap test_cleanup EXIT
# a test stopped by a signal (the runner's timeout, Ctrl-C) cleans up too
trap 'exit 143' INT TERM
