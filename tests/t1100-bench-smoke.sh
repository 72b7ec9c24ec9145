#!/usr/bin/env bash
# The benchmark harness cannot rot: bench/run --smoke builds the baselines
# and runs every local benchmark once with tiny sizes, and leaves nothing
# behind. (The figures of a smoke run mean nothing; make bench measures.)
# tests/run: busy (the figures of a smoke run mean nothing: beside other
# tests too; it counts only the bench's own namespaces)
. "$(dirname "$0")/lib.sh"

# the namespaces of the bench (its tenants b<N> and bm, the floor's mbn...)
bench_netns() { ip netns list | grep -cE "^(maas-b[0-9]|maas-bm( |$)|mbn|lab-bench)" || true; }

test_expect_success 'bench/run --smoke makes its table and leaves nothing' '
	before=$(bench_netns) &&
	(cd "$ROOT" && BUILD=$BUILD bench/run --smoke) >"$TMP/table" 2>"$TMP/err" &&
	grep -q "^| benchmark | maasfs | baseline | ratio | target | met |$" "$TMP/table" &&
	expect_eq 17 "$(grep -c "^| [^b-]" "$TMP/table")" &&
	! grep -q "| - | - | - | - | - |$" "$TMP/table" &&
	expect_eq "$before" "$(bench_netns)" &&
	! ip -o link show | grep -q "mbn\|maas[bgh]15[0-9]\{4\}" &&
	! grep -q "/tmp/maasfs-bench" /proc/mounts &&
	! ls -d /tmp/maasfs-bench.* 2>/dev/null
'

test_done
