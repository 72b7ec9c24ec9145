#!/usr/bin/env bash
# Moves part of the estate of examples/infra.yaml (made by
# examples/create_infra.sh) to where examples/migration.yaml says:
#   examples/perform_migration.sh [MOUNTPOINT]         with plain writes
#   examples/perform_migration.sh --yaml [MOUNTPOINT]  as one document: cp migration.yaml spec.yaml
# MOUNTPOINT defaults to /mnt/maas. The moves:
#   - tenantA/web1 to cloud2, live (it runs);
#   - tenantA's subnet db to cloud1: its gateway and DHCP server with their
#     leases, then its VM db1, live;
#   - tenantB/app1 to cloud1, live.
# Every step is printed before it runs; a move already made is skipped. A
# write returns once its move is done, or rolled back (Ctrl-C rolls back too).
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
	echo "usage: examples/perform_migration.sh [--yaml] [MOUNTPOINT]"
}

yaml=0
while [ $# -gt 0 ]; do
	case $1 in
	--yaml) yaml=1 ;;
	-h | --help)
		usage
		exit 0
		;;
	-*)
		usage >&2
		exit 2
		;;
	*) break ;;
	esac
	shift
done
[ $# -le 1 ] || {
	usage >&2
	exit 2
}
M=${1:-/mnt/maas}

VMS=(tenantA/web1 tenantA/web2 tenantA/db1 tenantB/app1)
SUBNETS=(tenantA/web tenantA/db tenantB/web)

run() {
	echo
	echo "\$ $*"
	"$@"
}

# A shell line with a redirection, printed as typed.
write() {
	echo
	echo "\$ echo $1 > $2"
	echo "$1" >"$2"
}

# Each subnet's home, each VM's cloud, power state and address.
show() {
	local p t x
	echo
	for p in "${SUBNETS[@]}"; do
		t=${p%/*} x=${p#*/}
		echo "$p: home $(cat "$M/$t/subnets/$x/cloud"), on $(paste -sd' ' "$M/$t/subnets/$x/clouds")"
	done
	echo
	printf '%-13s %-9s %-9s %s\n' VM LOCATION STATE IP
	for p in "${VMS[@]}"; do
		t=${p%/*} x=${p#*/}
		printf '%-13s %-9s %-9s %s\n' "$p" "$(cat "$M/$t/vms/$x/location")" \
			"$(cat "$M/$t/vms/$x/state")" "$(cat "$M/$t/vms/$x/ip")"
	done
}

grep -q " $M fuse.maasfs " /proc/mounts || {
	echo "perform_migration: maasfs is not mounted on $M" >&2
	exit 1
}
for p in "${VMS[@]}"; do
	[ -d "$M/${p%/*}/vms/${p#*/}" ] || {
		echo "perform_migration: no VM $p on $M: run examples/create_infra.sh first" >&2
		exit 1
	}
done

echo "before:"
show

if [ "$yaml" = 1 ]; then
	# The whole estate in one write: maasfs compares it with the current
	# one and makes the three moves.
	[ -e "$M/spec.yaml" ] || {
		echo "perform_migration: this maasfs has no $M/spec.yaml" >&2
		exit 1
	}
	run cp examples/migration.yaml "$M/spec.yaml"
	echo
	echo "after:"
	show
	exit 0
fi

# tenantA/web1 migrates live to cloud2; migration keeps the result.
V=$M/tenantA/vms/web1
if [ "$(cat "$V/location")" != cloud2 ]; then
	write cloud2 "$V/location"
	run cat "$V/migration"
fi

# tenantA's subnet db moves to cloud1: gateway and DHCP first, then db1.
# If a VM could not follow, the subnet is home already and writing its
# cloud again moves what is left.
S=$M/tenantA/subnets/db
if [ "$(cat "$S/cloud")" != cloud1 ] ||
	[ "$(cat "$M/tenantA/vms/db1/location")" != cloud1 ]; then
	write cloud1 "$S/cloud"
	run cat "$S/status"
fi

# tenantB/app1 migrates live to cloud1.
V=$M/tenantB/vms/app1
if [ "$(cat "$V/location")" != cloud1 ]; then
	write cloud1 "$V/location"
	run cat "$V/migration"
fi

echo
echo "after:"
show
