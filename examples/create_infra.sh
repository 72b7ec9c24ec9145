#!/usr/bin/env bash
# The estate of examples/infra.yaml on the lab's two clouds:
#   examples/create_infra.sh [MOUNTPOINT]          build it with plain file operations
#   examples/create_infra.sh --yaml [MOUNTPOINT]   build it as one document: cp infra.yaml spec.yaml
#   examples/create_infra.sh --clean [MOUNTPOINT]  remove it, with plain file operations
# MOUNTPOINT defaults to /mnt/maas (the demo's mount over the lab's clouds).
# Two tenants; tenantA has subnets web (home cloud1) and db (home cloud2),
# tenantB a subnet web with tenantA's CIDR (tenants are isolated); four VMs
# of the tiny image, web2 placed on cloud2, away from its subnet's home
# (reached over VXLAN). Every step is printed before it runs; what exists
# already is left alone, so it is safe to run again. Then
# examples/perform_migration.sh moves part of it.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
	echo "usage: examples/create_infra.sh [--yaml] [--clean] [MOUNTPOINT]"
}

yaml=0
clean=0
while [ $# -gt 0 ]; do
	case $1 in
	--yaml) yaml=1 ;;
	--clean) clean=1 ;;
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
if [ "$yaml" = 1 ] && [ "$clean" = 1 ]; then
	echo "create_infra: --clean works with file operations only" >&2
	exit 2
fi
M=${1:-/mnt/maas}

# The estate, as infra.yaml says it.
TENANTS=(tenantA tenantB)
SUBNETS=(   # tenant name cidr home
	"tenantA web 10.0.1.0/24 cloud1"
	"tenantA db  10.0.2.0/24 cloud2"
	"tenantB web 10.0.1.0/24 cloud2"
)
VMS=(       # tenant name subnet location
	"tenantA web1 web cloud1"
	"tenantA web2 web cloud2"
	"tenantA db1  db  cloud2"
	"tenantB app1 web cloud2"
)
VCPUS=1
MEMORY=128M
DISK=256M
IMAGE=tiny

run() {
	echo
	echo "\$ $*"
	"$@"
}

# A shell line with a redirection, printed as typed.
write() {
	local shown=$1
	case $1 in *" "*) shown="\"$1\"" ;; esac
	echo
	echo "\$ echo $shown > $2"
	echo "$1" >"$2"
}

# Each VM's cloud, power state and address.
show() {
	local line t v _s _l V
	echo
	printf '%-8s %-5s %-9s %-9s %s\n' TENANT VM LOCATION STATE IP
	for line in "${VMS[@]}"; do
		read -r t v _s _l <<<"$line"
		V=$M/$t/vms/$v
		if [ -d "$V" ]; then
			printf '%-8s %-5s %-9s %-9s %s\n' "$t" "$v" \
				"$(cat "$V/location")" "$(cat "$V/state")" "$(cat "$V/ip")"
		else
			printf '%-8s %-5s %s\n' "$t" "$v" "(absent)"
		fi
	done
}

grep -q " $M fuse.maasfs " /proc/mounts || {
	echo "create_infra: maasfs is not mounted on $M" >&2
	exit 1
}

if [ "$clean" = 1 ]; then
	for line in "${VMS[@]}"; do
		read -r t v _ _ <<<"$line"
		V=$M/$t/vms/$v
		[ -d "$V" ] || continue
		[ "$(cat "$V/state")" = stopped ] || write stop "$V/state"
		run rmdir "$V"
	done
	for line in "${SUBNETS[@]}"; do
		read -r t s _ _ <<<"$line"
		if [ -d "$M/$t/subnets/$s" ]; then
			run rmdir "$M/$t/subnets/$s"
		fi
	done
	for t in "${TENANTS[@]}"; do
		if [ -d "$M/$t" ]; then
			run rmdir "$M/$t"
		fi
	done
	exit 0
fi

for c in cloud1 cloud2; do
	[ -d "$M/clouds/$c" ] || {
		echo "create_infra: no cloud $c on $M (mount over the lab's clouds: examples/demo)" >&2
		exit 1
	}
	echo "$c: $(cat "$M/clouds/$c/status")"
done

if [ "$yaml" = 1 ]; then
	# The whole estate in one write: maasfs makes what is missing, changes
	# what differs and deletes what the document leaves out.
	[ -e "$M/spec.yaml" ] || {
		echo "create_infra: this maasfs has no $M/spec.yaml" >&2
		exit 1
	}
	run cp examples/infra.yaml "$M/spec.yaml"
	show
	exit 0
fi

# Tenants are directories.
for t in "${TENANTS[@]}"; do
	[ -d "$M/$t" ] || run mkdir "$M/$t"
done

# A subnet is one line written to subnets/new; its home cloud holds its
# gateway and DHCP server.
for line in "${SUBNETS[@]}"; do
	read -r t s cidr home <<<"$line"
	[ -d "$M/$t/subnets/$s" ] ||
		write "$cidr name=$s cloud=$home" "$M/$t/subnets/new"
done

# A VM is a directory; it is configured while it is stopped, then started.
# The subnet is written before the location: a VM that has never run goes
# with its subnet to the subnet's home, and writing another cloud to its
# location places it there (web2: cloud2, its subnet's home is cloud1).
for line in "${VMS[@]}"; do
	read -r t v s loc <<<"$line"
	V=$M/$t/vms/$v
	[ -d "$V" ] || run mkdir "$V"
	[ "$(cat "$V/state")" = stopped ] || continue
	write "$VCPUS" "$V/vcpus"
	write "$MEMORY" "$V/memory"
	write "$DISK" "$V/disk"
	write "$IMAGE" "$V/image"
	write "$s" "$V/subnet"
	write "$loc" "$V/location"
	write start "$V/state"
done

for line in "${SUBNETS[@]}"; do
	read -r t s _ _ <<<"$line"
	echo
	echo "$t/$s: $(cat "$M/$t/subnets/$s/cidr") home $(cat "$M/$t/subnets/$s/cloud"), on $(paste -sd' ' "$M/$t/subnets/$s/clouds")"
done
show
