/* A replication's cycles on the source (lv.h, virt.h): a pull-mode backup
 * job that serves the disk over NBD as it was when the job began, with a
 * checkpoint (a persistent dirty bitmap in the qcow2) made at that same
 * instant; the next cycle serves the blocks changed since it. */
#include "lv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../copy/copy.h"

/* An aborted job is gone within this. */
#define REPL_END_MS 30000
#define REPL_POLL_MS 20

static bool ckpt_valid(const char *name)
{
	size_t n = strlen(COPY_REPL_CKPT);

	return name && !strncmp(name, COPY_REPL_CKPT, n) && name[n] &&
	       strlen(name) < 40 && strspn(name + n, "0123456789") ==
	       strlen(name + n);
}

int lv_repl_begin(struct virtdrv *vd, const struct virt_cycle *cy,
		  char *err)
{
	struct libvirt_drv *d = lv_of(vd);
	char bx[3 * PATH_MAX], cx[256], inc[64] = "", dir[PATH_MAX + 64];
	virConnectPtr c;
	virDomainPtr dom;
	int r = 0;

	if (!ckpt_valid(cy->ckpt) || (cy->since && !ckpt_valid(cy->since)))
		return err_set(err, EINVAL, "bad checkpoint name");
	if (!path_safe(d->disks))
		return err_set(err, EINVAL, "bad disk folder");
	r = lv_dom_get(d, cy->uuid, &c, &dom, err);
	if (r)
		return r;
	snprintf(dir, sizeof dir, "%s/" COPY_REPL_DIR "%s", d->disks,
		 cy->uuid);
	if (cy->since)
		snprintf(inc, sizeof inc, "<incremental>%s</incremental>",
			 cy->since);
	snprintf(bx, sizeof bx,
		 "<domainbackup mode='pull'>%s"
		 "<server transport='unix' socket='%s/" COPY_REPL_SOCK "'/>"
		 "<disks><disk name='vda' backup='yes' type='file' "
		 "exportname='" COPY_REPL_EXPORT "' exportbitmap='"
		 COPY_REPL_BITMAP "'><scratch file='%s/scratch.qcow2'/>"
		 "</disk></disks></domainbackup>", inc, dir, dir);
	snprintf(cx, sizeof cx,
		 "<domaincheckpoint><name>%s</name><disks>"
		 "<disk name='vda' checkpoint='bitmap'/></disks>"
		 "</domaincheckpoint>", cy->ckpt);
	if (virDomainBackupBegin(dom, bx, cx, 0) < 0) {
		r = lv_fail(err, "starting a replication cycle of %s on "
			    "cloud %s", cy->uuid, d->cloud);
		if (strstr(err, "Cannot store dirty bitmaps in qcow"))
			r = err_set(err, EOPNOTSUPP, "the disk of %s is a "
				    "qcow2 of version 2 (compat 0.10, as an "
				    "earlier maasfs made them): a replication "
				    "needs 1.1 (qemu-img amend -o compat=1.1, the VM "
				    "stopped)", cy->uuid);
	}
	lv_dom_put(dom, c);
	return r;
}

int lv_repl_end(struct virtdrv *vd, const char *uuid, char *err)
{
	struct libvirt_drv *d = lv_of(vd);
	int64_t until = clock_ms() + REPL_END_MS;
	virDomainJobInfo info;
	virConnectPtr c;
	virDomainPtr dom;
	int r = lv_dom_get(d, uuid, &c, &dom, err);

	if (r)
		return r == -ENOENT ? 0 : r;   /* no domain, no job */
	if (virDomainGetJobInfo(dom, &info) == 0 &&
	    info.type != VIR_DOMAIN_JOB_NONE && virDomainAbortJob(dom) < 0)
		r = lv_fail(err, "ending the replication cycle of %s", uuid);
	while (r == 0 && virDomainGetJobInfo(dom, &info) == 0 &&
	       info.type != VIR_DOMAIN_JOB_NONE) {
		if (clock_ms() > until) {
			r = err_set(err, ETIMEDOUT, "the backup job of %s "
				    "does not end", uuid);
			break;
		}
		usleep(REPL_POLL_MS * 1000);
	}
	lv_dom_put(dom, c);
	return r;
}

/* Deletes a checkpoint of ours (its changes go to its parent's bitmap);
 * a domain that does not run only forgets it. */
static int ckpt_delete(virDomainPtr dom, const char *name, char *err)
{
	virDomainCheckpointPtr cp = virDomainCheckpointLookupByName(dom, name,
								     0);
	unsigned flags = virDomainIsActive(dom) == 1 ? 0 :
			 VIR_DOMAIN_CHECKPOINT_DELETE_METADATA_ONLY;
	int r = 0;

	if (!cp)
		return 0;
	if (virDomainCheckpointDelete(cp, flags) < 0)
		r = lv_fail(err, "deleting checkpoint %s", name);
	virDomainCheckpointFree(cp);
	return r;
}

int lv_ckpt_drop(struct virtdrv *vd, const char *uuid, const char *name,
		 char *err)
{
	struct libvirt_drv *d = lv_of(vd);
	virDomainCheckpointPtr *all = NULL;
	virConnectPtr c;
	virDomainPtr dom;
	int n, i, r = 0;

	if (name && !ckpt_valid(name))
		return err_set(err, EINVAL, "bad checkpoint name");
	r = lv_dom_get(d, uuid, &c, &dom, err);
	if (r)
		return r == -ENOENT ? 0 : r;
	if (name) {
		r = ckpt_delete(dom, name, err);
	} else if ((n = virDomainListAllCheckpoints(dom, &all, 0)) < 0) {
		r = lv_fail(err, "the checkpoints of %s", uuid);
	} else {
		/* newest first: each deletion merges into a parent that
		 * goes next */
		for (i = n - 1; i >= 0; i--) {
			const char *cn = virDomainCheckpointGetName(all[i]);

			if (r == 0 && ckpt_valid(cn))
				r = ckpt_delete(dom, cn, err);
			virDomainCheckpointFree(all[i]);
		}
		free(all);
	}
	lv_dom_put(dom, c);
	return r;
}

int lv_ckpt_size(struct virtdrv *vd, const char *uuid, const char *name,
		 uint64_t *bytes, char *err)
{
	struct libvirt_drv *d = lv_of(vd);
	virDomainCheckpointPtr cp;
	virConnectPtr c;
	virDomainPtr dom;
	char *xml, *p;
	int r = -ENOENT;

	if (!ckpt_valid(name))
		return err_set(err, EINVAL, "bad checkpoint name");
	r = lv_dom_get(d, uuid, &c, &dom, err);
	if (r)
		return r;
	r = -ENOENT;
	cp = virDomainCheckpointLookupByName(dom, name, 0);
	xml = cp ? virDomainCheckpointGetXMLDesc(
			   cp, VIR_DOMAIN_CHECKPOINT_XML_SIZE) : NULL;
	p = xml ? strstr(xml, " size='") : NULL;
	if (p) {
		*bytes = strtoull(p + 7, NULL, 10);
		r = 0;
	} else {
		lv_fail(err, "the size of checkpoint %s of %s", name, uuid);
	}
	free(xml);
	if (cp)
		virDomainCheckpointFree(cp);
	lv_dom_put(dom, c);
	return r;
}

int lv_suspend(struct virtdrv *vd, const char *uuid, char *err)
{
	struct libvirt_drv *d = lv_of(vd);
	virConnectPtr c;
	virDomainPtr dom;
	int r = lv_dom_get(d, uuid, &c, &dom, err);

	if (r)
		return r;
	if (virDomainSuspend(dom) < 0)
		r = lv_fail(err, "pausing %s", uuid);
	lv_dom_put(dom, c);
	return r;
}
