/* A disk as it is at one moment (lv.h, virt.h's disk_backup): of a
 * running domain, libvirt's backup job in push mode, full, into a disk
 * made beforehand; of a stopped one, a copy of its file. */
#include "lv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/log.h"

#define BACKUP_POLL_MS 100
/* An aborted job is gone within this (QEMU stops at its next block). */
#define BACKUP_ABORT_MS 30000

/* How the job ended, from libvirt's record of the completed job. */
static int backup_outcome(virDomainPtr dom, const char *uuid, char *err)
{
	virTypedParameterPtr p = NULL;
	const char *msg = NULL;
	int type = VIR_DOMAIN_JOB_NONE, n = 0, op = 0, r;

	if (virDomainGetJobStats(dom, &type, &p, &n,
				 VIR_DOMAIN_JOB_STATS_COMPLETED) < 0)
		return lv_fail(err, "the backup of %s", uuid);
	virTypedParamsGetInt(p, n, VIR_DOMAIN_JOB_OPERATION, &op);
	virTypedParamsGetString(p, n, VIR_DOMAIN_JOB_ERRMSG, &msg);
	if (type == VIR_DOMAIN_JOB_COMPLETED &&
	    op == VIR_DOMAIN_JOB_OPERATION_BACKUP)
		r = 0;
	else
		r = err_set(err, EIO, "the backup of %s failed: %s", uuid,
			    msg ? msg : type == VIR_DOMAIN_JOB_NONE
					? "libvirt kept no record of it"
					: "libvirt says no more");
	virTypedParamsFree(p, n);
	return r;
}

/* Waits for no job to run on dom, BACKUP_ABORT_MS at most. */
static void job_gone(virDomainPtr dom)
{
	int64_t until = clock_ms() + BACKUP_ABORT_MS;
	virDomainJobInfo info;

	while (virDomainGetJobInfo(dom, &info) == 0 &&
	       info.type != VIR_DOMAIN_JOB_NONE && clock_ms() < until)
		usleep(BACKUP_POLL_MS * 1000);
	virResetLastError();
}

/* The job, to its end: progress told, a cancel obeyed (-EINTR). */
static int backup_wait(virDomainPtr dom, const struct virt_backup *b,
		       char *err)
{
	virDomainJobInfo info;

	for (;;) {
		if (virDomainGetJobInfo(dom, &info) < 0)
			return lv_fail(err, "the backup of %s", b->uuid);
		if (info.type == VIR_DOMAIN_JOB_NONE)
			return backup_outcome(dom, b->uuid, err);
		if (b->progress) {
			struct virt_progress p = { info.dataProcessed,
						   info.dataTotal, 0 };

			b->progress(b->ctx, &p);
		}
		if (b->cancelled && b->cancelled(b->ctx)) {
			if (virDomainAbortJob(dom) < 0)
				virResetLastError();
			job_gone(dom);
			return err_set(err, EINTR, "the backup of %s was "
				       "cancelled", b->uuid);
		}
		usleep(BACKUP_POLL_MS * 1000);
	}
}

/* The backup job into the disk made for it (REUSE_EXTERNAL: libvirt
 * takes that file as it is, a qcow2 of the disk's size). */
static int backup_run(struct libvirt_drv *d, virDomainPtr dom,
		      const struct virt_backup *b, char *err)
{
	char xml[PATH_MAX + 512];

	snprintf(xml, sizeof xml,
		 "<domainbackup mode='push'><disks>"
		 "<disk name='vda' backup='yes' type='file'>"
		 "<target file='%s/%s.qcow2'/><driver type='qcow2'/>"
		 "</disk></disks></domainbackup>", d->disks, b->dest);
	if (virDomainBackupBegin(dom, xml, NULL,
				 VIR_DOMAIN_BACKUP_BEGIN_REUSE_EXTERNAL) < 0)
		return lv_fail(err, "starting the backup of %s on cloud %s",
			       b->uuid, d->cloud);
	return backup_wait(dom, b, err);
}

int lv_disk_backup(struct virtdrv *vd, const struct virt_backup *b,
		   char *err)
{
	struct libvirt_drv *d = lv_of(vd);
	virConnectPtr c;
	virDomainPtr dom;
	int r;

	if (!uuid_valid(b->uuid) || !uuid_valid(b->dest) ||
	    !path_safe(d->disks))
		return err_set(err, EINVAL, "bad disk name");
	r = lv_dom_get(d, b->uuid, &c, &dom, err);
	if (r)
		return r;
	if (virDomainIsActive(dom) != 1) {
		r = lv_disk_clone(d, b->uuid, b->dest, err);
	} else {
		r = lv_disk_prepare(vd, b->dest, b->capacity, err);
		if (r == 0 && (r = backup_run(d, dom, b, err)))
			lv_disk_delete(vd, b->dest, NULL);
	}
	lv_dom_put(dom, c);
	return r;
}
