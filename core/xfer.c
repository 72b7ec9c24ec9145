/* Files from one cloud to another (xfer.h). */
#include "xfer.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../lib/log.h"

int xfer_file(const struct xfer *x, enum copy_area area, const char *name,
	      char *sum_hex, char *err)
{
	struct hostdrv *src = x->from->host, *dst = x->to->host;
	struct copy_src *s = NULL;
	struct copy_dst *d = NULL;
	int r;

	r = src->ops->file_source(src, area, name, &s, err);
	if (r)
		return r;
	r = dst->ops->file_sink(dst, area, name, s->size, &d, err);
	if (r == 0)
		r = copy_relay(s, d, &x->o, err);
	if (r == -EINTR)
		err_set(err, EINTR, "cancelled by the caller while copying %s",
			name);
	if (r == 0 && sum_hex)
		copy_sum_hex(s->sum, sum_hex);
	copy_src_close(s);
	return r;
}

int xfer_image(const struct xfer *x, const char *image, char *err)
{
	static const char *const parts[] = { "kernel", "initrd", "qcow2" };
	struct virtdrv *tv = x->to->virt;
	char name[NAME_MAXLEN + 16];
	size_t i;
	int r;

	r = tv->ops->image_check(tv, image, err);
	if (r != -ENOENT)
		return r;
	log_info("sending image %s from cloud %s to cloud %s", image,
		 x->from->name, x->to->name);
	for (i = 0; i < ARRAY_SIZE(parts); i++) {
		snprintf(name, sizeof name, "%s.%s", image, parts[i]);
		r = xfer_file(x, COPY_IMAGES, name, NULL, err);
		if (r)
			return r == -ENOENT ? err_set(err, ENOENT, "image %s "
						      "is on neither cloud",
						      image)
					    : r;
	}
	return tv->ops->image_check(tv, image, err);
}

int mig_ready(const struct mig_target *t, uint64_t *capacity,
	      uint64_t *allocation, char *err)
{
	struct virtdrv *tv = t->to->virt, *fv = t->from->virt;
	struct strbuf st = STRBUF_INIT;
	uint64_t room = 0;
	int r;

	t->to->host->ops->status(t->to->host, &st);
	r = strncmp(sb_str(&st), "up", 2) ?
	    err_set(err, EHOSTUNREACH, "cloud %s is %s", t->to->name,
		    sb_str(&st)) : 0;
	sb_free(&st);
	if (r)
		return r;
	if (t->subnet && (!t->to->vtep_ip || !t->from->vtep_ip))
		return err_set(err, EINVAL, "clouds %s and %s need a vtep to "
			       "share a subnet", t->from->name, t->to->name);
	r = fv->ops->disk_info(fv, t->uuid, capacity, allocation, err);
	if (r)
		return r == -ENOENT ? err_set(err, EIO, "the disk of %s is "
					      "missing on cloud %s", t->name,
					      t->from->name) : r;
	if (t->replica)
		return 0;   /* the disk is there already */
	r = tv->ops->disk_room(tv, &room, err);
	if (t->reserved < 0)
		room += (uint64_t)-t->reserved;
	else
		room = room > (uint64_t)t->reserved ? room - t->reserved : 0;
	if (r == 0 && room < *allocation + MIG_ROOM_MARGIN)
		r = err_set(err, ENOSPC, "cloud %s has %llu MiB free, the disk "
			    "of %s needs %llu", t->to->name,
			    (unsigned long long)(room >> 20), t->name,
			    (unsigned long long)((*allocation +
						  MIG_ROOM_MARGIN) >> 20));
	return r;
}
