#!/usr/bin/env bash
# The benchmark harness cannot rot: bench/run --smoke builds the baselines
# and runs every local benchmark once with tiny sizes, and leaves nothing
# behind. (The figures of a smoke run mean nothing; make bench measures.)
# tests/run: alone (it counts and measures)
. "$(dirname "$0")/lib.sh"

test_expect_success 'bench/run --smoke makes its table and leaves nothing' '
	before=$(ip netns list | wc -l) &&
	(cd "$ROOT" && BUILD=$BUILD bench/run --smoke) >"$TMP/table" 2>"$TMP/err" &&
	grep -q "^| benchmark | maasfs | baseline | ratio | target | met |$" "$TMP/table" &&
	expect_eq 17 "$(grep -c "^| [^b-]" "$TMP/table")" &&
	! grep -q "| - | - | - | - | - |$" "$TMP/table" &&
	expect_eq "$before" "$(ip netns list | wc -l)" &&
	! ip -o link show | grep -q "mbn\|maas[bgh]15[0-9]\{4\}" &&
	! grep -q "/tmp/maasfs-bench" /proc/mounts &&
	! ls -d /tmp/maasfs-bench.* 2>/dev/null
'

test_done
