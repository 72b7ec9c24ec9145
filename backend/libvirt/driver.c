/* The libvirt driver (lv.h): its table of operations over the files of
 * this folder, made and freed. */
#include "lv.h"

static const struct virtdrv_ops libvirt_ops = {
	.define = lv_define,
	.undefine = lv_undefine,
	.start = lv_start,
	.stop = lv_stop,
	.power = lv_power,
	.image_check = lv_image_check,
	.disk_create = lv_disk_create,
	.disk_resize = lv_disk_resize,
	.disk_delete = lv_disk_delete,
	.disk_exists = lv_disk_exists,
	.disk_info = lv_disk_info,
	.disk_room = lv_disk_room,
	.disk_prepare = lv_disk_prepare,
	.settle = lv_settle,
	.migrate = lv_migrate,
	.disk_backup = lv_disk_backup,
	.repl_begin = lv_repl_begin,
	.repl_end = lv_repl_end,
	.ckpt_drop = lv_ckpt_drop,
	.ckpt_size = lv_ckpt_size,
	.suspend = lv_suspend,
	.list = lv_list,
	.warm = lv_warm,
	.status = lv_status,
	.free = lv_free,
};

struct virtdrv *virtdrv_libvirt_new(const struct virtdrv_conf *c, char *err)
{
	struct libvirt_drv *d = lv_new(c, err);

	if (!d)
		return NULL;
	d->base.ops = &libvirt_ops;
	return &d->base;
}

void virtdrv_free(struct virtdrv *d)
{
	if (d)
		d->ops->free(d);
}
