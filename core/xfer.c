/* Files from one cloud to another (xfer.h). */
#include "xfer.h"

#include <errno.h>
#include <stdio.h>

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
