#!/usr/bin/env bash
# A crash of maasfs tells itself, in whichever thread: killed by SIGSEGV
# (or SIGABRT), maasfs writes the signal, where it was (the instruction
# and stack pointers, the code addresses on top of the stack by object and
# symbol) and a backtrace to its log before it dies as it would have; the
# data plane keeps running and the next mount finds the same estate. No
# thread of maasfs blocks a fault's signal. (Not in the ASan run:
# the sanitizer takes these signals itself, and its report fails a run.)
. "$(dirname "$0")/lib.sh"

# The crashes here are on purpose: they leave no core (CI counts every
# core of maasfs in /tmp as a crash to report, and fails on it).
ulimit -c 0

A=${T}a
S=$MNT/$A/subnets/web

# report SIGNUM NAME: the log's report of the crash
report() {
	grep -q "^maasfs: fatal: signal $1 ($2) in thread [0-9]*, address .*, ip 0x[0-9a-f]*, sp 0x[0-9a-f]*$" "$STATE/maasfs.log" &&
	grep -q "^maasfs: fatal:   ip 0x[0-9a-f]*: /.*+0x[0-9a-f]* (" "$STATE/maasfs.log" &&
	grep -q "^maasfs: fatal: backtrace:$" "$STATE/maasfs.log" &&
	grep -q "maasfs(+0x[0-9a-f]*)\[0x[0-9a-f]*\]$" "$STATE/maasfs.log"
}

# crash SIG: maasfs killed by SIG from outside; gone, its mount cleared
crash() {
	local pid
	pid=$(maas_pid) &&
	kill -"$1" "$pid" &&
	wait_for 10 not_running "$pid" &&
	fusermount3 -uz "$MNT"
}

test_expect_success 'an estate: a tenant with a subnet' '
	maas_mount &&
	mkdir "$MNT/$A" &&
	echo "10.0.1.0/24 name=web" >"$MNT/$A/subnets/new" &&
	kernel_snapshot >"$TMP/k0"
'

test_expect_success 'SIGSEGV: the log tells the signal, where, and a backtrace; the data plane runs on; the next mount finds it all' '
	crash SEGV &&
	report 11 "Segmentation fault" &&
	expect_eq "$(cat "$TMP/k0")" "$(kernel_snapshot)" &&
	maas_mount &&
	expect_eq 10.0.1.0/24 "$(cat "$S/cidr")" &&
	expect_eq "$(cat "$TMP/k0")" "$(kernel_snapshot)"
'

# faults_blocked PID: the threads of PID that block a fault's signal
# (SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE, SIGSEGV, SIGSYS: a thread's
# own fault, blocked, kills the process without a report)
faults_blocked() {
	local st blk
	for st in /proc/"$1"/task/*/status; do
		blk=$(sed -n "s/^SigBlk:[[:space:]]*//p" "$st")
		[ $((0x$blk & 0x400004F8)) = 0 ] || echo "${st%/status}: $blk"
	done
}

# helper_thread PID: a thread of PID that blocks SIGUSR1 (one maasfs
# started to work beside the serving ones: the state writer, say)
helper_thread() {
	local st
	for st in /proc/"$1"/task/*/status; do
		[ $((0x$(sed -n "s/^SigBlk:[[:space:]]*//p" "$st") & 0x200)) = 0 ] ||
			{ basename "${st%/status}"; return; }
	done
	return 1
}

test_expect_success 'no thread of maasfs blocks a fault'"'"'s signal; a SIGSEGV in one of its own threads is told from that thread' '
	pid=$(maas_pid) &&
	expect_eq "" "$(faults_blocked "$pid")" &&
	tid=$(helper_thread "$pid") &&
	: >"$STATE/maasfs.log" &&
	python3 -c "import ctypes, sys; sys.exit(ctypes.CDLL(None).tgkill($pid, $tid, 11))" &&
	wait_for 10 not_running "$pid" &&
	fusermount3 -uz "$MNT" &&
	report 11 "Segmentation fault" &&
	grep -q "^maasfs: fatal: signal 11 (Segmentation fault) in thread $tid," "$STATE/maasfs.log" &&
	maas_mount &&
	expect_eq 10.0.1.0/24 "$(cat "$S/cidr")"
'

test_expect_success 'SIGABRT (an abort()): told the same way' '
	: >"$STATE/maasfs.log" &&
	crash ABRT &&
	report 6 Aborted &&
	maas_mount &&
	expect_eq 10.0.1.0/24 "$(cat "$S/cidr")"
'

test_expect_success 'everything removed; nothing left' '
	rmdir "$S" "$MNT/$A" &&
	assert_clean &&
	maas_umount
'

test_done
