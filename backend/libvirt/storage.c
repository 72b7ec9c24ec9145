/* Storage (lv.h): the image and disk pools, images checked, disks made
 * from an image, grown, prepared for a live migration, deleted. */
#include "lv.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../lib/log.h"
#include "../host/netns.h"

/* libvirt refuses to refresh a pool while a volume of it is being made
 * (another VM's disk: parallel moves, several users): the refresh waits
 * for it, POOL_BUSY_MS at most. */
#define POOL_BUSY_MS 30000

static bool pool_busy(void)
{
	virErrorPtr e = virGetLastError();

	return e && e->message && strstr(e->message, "asynchronous jobs");
}

static int pool_refresh(virStoragePoolPtr p)
{
	int64_t until = clock_ms() + POOL_BUSY_MS;
	int r;

	while ((r = virStoragePoolRefresh(p, 0)) < 0 && pool_busy() &&
	       clock_ms() < until) {
		virResetLastError();
		usleep(50000);
	}
	return r;
}

/* The pool, refreshed if asked: 0, or the -errno of libvirt's error. */
static int lv_pool(virConnectPtr c, const char *name, bool refresh,
		   virStoragePoolPtr *out, char *err)
{
	virStoragePoolPtr p = virStoragePoolLookupByName(c, name);
	int r;

	*out = NULL;
	if (!p)
		return lv_fail(err, "pool %s", name);
	if (refresh && pool_refresh(p) < 0) {
		r = lv_fail(err, "refreshing pool %s", name);
		virStoragePoolFree(p);
		return r;
	}
	*out = p;
	return 0;
}

/* The connection and the pool, or neither: 0, or -errno. */
static int pool_conn(struct libvirt_drv *d, const char *pool, bool refresh,
		     virConnectPtr *c, virStoragePoolPtr *p, char *err)
{
	int r;

	*c = lv_conn(d, err);
	if (!*c)
		return -EHOSTUNREACH;
	r = lv_pool(*c, pool, refresh, p, err);
	if (r) {
		virConnectClose(*c);
		*c = NULL;
	}
	return r;
}

int lv_image_check(struct virtdrv *vd, const char *image, char *err)
{
	struct libvirt_drv *d = lv_of(vd);
	static const char *const parts[] = { "kernel", "initrd", "qcow2" };
	virConnectPtr c;
	virStoragePoolPtr p;
	size_t i;
	int r = 0;

	if (!word_safe(image))
		return err_set(err, EINVAL, "bad image name");
	r = pool_conn(d, d->pool_images, true, &c, &p, err);
	if (r)
		return r;
	for (i = 0; i < ARRAY_SIZE(parts) && r == 0; i++) {
		char vol[128];
		virStorageVolPtr v;

		snprintf(vol, sizeof vol, "%s.%s", image, parts[i]);
		v = virStorageVolLookupByName(p, vol);
		if (v)
			virStorageVolFree(v);
		else
			r = err_set(err, ENOENT, "no image %s on cloud %s "
				    "(%s/%s missing)", image, d->cloud,
				    d->images, vol);
	}
	virResetLastError();
	virStoragePoolFree(p);
	virConnectClose(c);
	return r;
}

static int resize_vol(virStorageVolPtr v, uint64_t mib, char *err)
{
	virStorageVolInfo info;

	if (virStorageVolGetInfo(v, &info) < 0)
		return lv_fail(err, "size of a disk");
	if (info.capacity >= mib << 20)
		return 0;
	if (virStorageVolResize(v, mib << 20, 0) < 0)
		return lv_fail(err, "growing a disk to %llu MiB",
				 (unsigned long long)mib);
	return 0;
}

int lv_disk_create(struct virtdrv *vd, const char *uuid,
		   const char *image, uint64_t mib, char *err)
{
	struct libvirt_drv *d = lv_of(vd);
	virConnectPtr c;
	virStoragePoolPtr ip = NULL, dp = NULL;
	virStorageVolPtr base = NULL, v = NULL;
	char xml[512], name[128];
	int r = 0;

	if (!uuid_valid(uuid) || !word_safe(image))
		return err_set(err, EINVAL, "bad disk or image name");
	c = lv_conn(d, err);
	if (!c)
		return -EHOSTUNREACH;
	r = lv_reach(d, c, err);
	if (r) {
		virConnectClose(c);
		return r;
	}
	snprintf(name, sizeof name, "%s.qcow2", image);
	r = lv_pool(c, d->pool_images, true, &ip, err);
	if (r == 0)
		r = lv_pool(c, d->pool_disks, false, &dp, err);
	if (r)
		goto out;
	base = virStorageVolLookupByName(ip, name);
	if (!base) {
		r = err_set(err, ENOENT, "no image %s on cloud %s", image,
			    d->cloud);
		goto out;
	}
	/* qcow2 version 3 (compat 1.1, not libvirt's default 0.10): only
	 * it holds the persistent dirty bitmaps of a replication's
	 * checkpoints. */
	snprintf(xml, sizeof xml,
		 "<volume type='file'><name>%s.qcow2</name>"
		 "<capacity unit='MiB'>%llu</capacity>"
		 "<target><format type='qcow2'/><compat>1.1</compat>"
		 "<permissions><mode>0600</mode></permissions></target>"
		 "</volume>", uuid, (unsigned long long)mib);
	v = virStorageVolCreateXMLFrom(dp, xml, base, 0);
	if (!v) {
		r = lv_fail(err, "making the disk of %s from %s", uuid,
			      image);
		goto out;
	}
	r = resize_vol(v, mib, err);
	if (r)
		virStorageVolDelete(v, 0);
out:
	virResetLastError();
	if (v)
		virStorageVolFree(v);
	if (base)
		virStorageVolFree(base);
	if (dp)
		virStoragePoolFree(dp);
	if (ip)
		virStoragePoolFree(ip);
	virConnectClose(c);
	return r;
}

/* Runs fn on the disk volume <uuid>.<ext>; -ENOENT if there is none. */
static int with_vol(struct libvirt_drv *d, const char *uuid, const char *ext,
		    bool refresh,
		    int (*fn)(virStorageVolPtr v, uint64_t arg, char *err),
		    uint64_t arg, char *err)
{
	virConnectPtr c;
	virStoragePoolPtr p;
	virStorageVolPtr v;
	char name[128];
	int r;

	if (!uuid_valid(uuid))
		return err_set(err, EINVAL, "bad disk name");
	c = lv_conn(d, err);
	if (!c)
		return -EHOSTUNREACH;
	r = lv_pool(c, d->pool_disks, refresh, &p, err);
	if (r) {
		virConnectClose(c);
		return r;
	}
	snprintf(name, sizeof name, "%s.%s", uuid, ext);
	v = virStorageVolLookupByName(p, name);
	if (!v) {
		virResetLastError();
		r = -ENOENT;
	} else {
		r = fn ? fn(v, arg, err) : 0;
		virStorageVolFree(v);
	}
	virStoragePoolFree(p);
	virConnectClose(c);
	return r;
}

static int vol_resize(virStorageVolPtr v, uint64_t mib, char *err)
{
	return resize_vol(v, mib, err);
}

static int vol_delete(virStorageVolPtr v, uint64_t arg, char *err)
{
	(void)arg;
	if (virStorageVolDelete(v, 0) < 0)
		return lv_fail(err, "deleting a disk");
	return 0;
}

int lv_disk_resize(struct virtdrv *vd, const char *uuid,
		   uint64_t mib, char *err)
{
	int r = with_vol(lv_of(vd), uuid, "qcow2", false, vol_resize, mib,
			 err);

	return r == -ENOENT ? 0 : r;   /* made at first start, at its size */
}

int lv_disk_delete(struct virtdrv *vd, const char *uuid, char *err)
{
	struct libvirt_drv *d = lv_of(vd);
	int r = with_vol(d, uuid, "qcow2", true, vol_delete, 0, err);

	if (r && r != -ENOENT)
		return r;
	r = with_vol(d, uuid, "console", false, vol_delete, 0, err);
	return r == -ENOENT ? 0 : r;
}

int lv_disk_exists(struct virtdrv *vd, const char *uuid, char *err)
{
	int r = with_vol(lv_of(vd), uuid, "qcow2", true, NULL, 0, err);

	return r == 0 ? 1 : r == -ENOENT ? 0 : r;
}

static int vol_info(virStorageVolPtr v, uint64_t arg, char *err)
{
	virStorageVolInfo info;
	uint64_t *out = (uint64_t *)(uintptr_t)arg;

	if (virStorageVolGetInfo(v, &info) < 0)
		return lv_fail(err, "size of a disk");
	out[0] = info.capacity;
	out[1] = info.allocation;
	return 0;
}

int lv_disk_info(struct virtdrv *vd, const char *uuid,
		 uint64_t *capacity, uint64_t *allocation, char *err)
{
	uint64_t both[2] = { 0, 0 };
	int r = with_vol(lv_of(vd), uuid, "qcow2", true, vol_info,
			 (uint64_t)(uintptr_t)both, err);

	if (r == -ENOENT)
		return err_set(err, ENOENT, "disk of %s not found", uuid);
	*capacity = both[0];
	*allocation = both[1];
	return r;
}

int lv_disk_room(struct virtdrv *vd, uint64_t *avail, char *err)
{
	struct libvirt_drv *d = lv_of(vd);
	virConnectPtr c = lv_conn(d, err);
	virStoragePoolPtr p;
	virStoragePoolInfo info;
	int r = 0;

	if (!c)
		return -EHOSTUNREACH;
	r = lv_pool(c, d->pool_disks, true, &p, err);
	if (r) {
		virConnectClose(c);
		return r;
	}
	if (virStoragePoolGetInfo(p, &info) < 0)
		r = lv_fail(err, "free space of pool %s", d->pool_disks);
	else
		*avail = info.available;
	virStoragePoolFree(p);
	virConnectClose(c);
	return r;
}

int lv_disk_prepare(struct virtdrv *vd, const char *uuid,
		    uint64_t capacity, char *err)
{
	struct libvirt_drv *d = lv_of(vd);
	virConnectPtr c;
	virStoragePoolPtr p;
	virStorageVolPtr v;
	char xml[512];
	int r = 0;

	if (!uuid_valid(uuid))
		return err_set(err, EINVAL, "bad disk name");
	r = with_vol(d, uuid, "qcow2", true, vol_delete, 0, err);
	if (r && r != -ENOENT)
		return r;
	r = 0;
	r = pool_conn(d, d->pool_disks, false, &c, &p, err);
	if (r)
		return r;
	snprintf(xml, sizeof xml,
		 "<volume type='file'><name>%s.qcow2</name>"
		 "<capacity unit='bytes'>%llu</capacity>"
		 "<target><format type='qcow2'/><compat>1.1</compat>"
		 "<permissions><mode>0600</mode></permissions></target>"
		 "</volume>", uuid, (unsigned long long)capacity);
	v = virStorageVolCreateXML(p, xml, 0);
	if (!v)
		r = lv_fail(err, "making an empty disk for %s on cloud %s",
			      uuid, d->cloud);
	else
		virStorageVolFree(v);
	virStoragePoolFree(p);
	virConnectClose(c);
	return r;
}

int lv_disk_clone(struct libvirt_drv *d, const char *uuid, const char *dest,
		  char *err)
{
	virConnectPtr c;
	virStoragePoolPtr p;
	virStorageVolPtr from, v = NULL;
	char xml[512], name[128];
	int r;

	if (!uuid_valid(uuid) || !uuid_valid(dest))
		return err_set(err, EINVAL, "bad disk name");
	r = pool_conn(d, d->pool_disks, true, &c, &p, err);
	if (r)
		return r;
	snprintf(name, sizeof name, "%s.qcow2", uuid);
	from = virStorageVolLookupByName(p, name);
	if (!from) {
		r = err_set(err, ENOENT, "no disk %s on cloud %s", name,
			    d->cloud);
	} else {
		snprintf(xml, sizeof xml,
			 "<volume type='file'><name>%s.qcow2</name>"
			 "<capacity unit='bytes'>0</capacity>"
			 "<target><format type='qcow2'/><compat>1.1</compat>"
			 "<permissions><mode>0600</mode></permissions>"
			 "</target></volume>",
			 dest);
		v = virStorageVolCreateXMLFrom(p, xml, from, 0);
		if (!v)
			r = lv_fail(err, "copying disk %s on cloud %s", name,
				    d->cloud);
	}
	virResetLastError();
	if (v)
		virStorageVolFree(v);
	if (from)
		virStorageVolFree(from);
	virStoragePoolFree(p);
	virConnectClose(c);
	return r;
}
