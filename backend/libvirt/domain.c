/* Domains (lv.h): their XML from validated fields, defined, started,
 * stopped, settled and listed; QEMU's reach into our folders checked. */
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

void virt_domain_name(const char *tenant, const char *vm, char *buf,
		      size_t len)
{
	snprintf(buf, len, "maas:%s:%s", tenant, vm);
}

virDomainPtr lv_domain(virConnectPtr c, const char *uuid, char *err)
{
	virDomainPtr dom = virDomainLookupByUUIDString(c, uuid);

	if (!dom)
		lv_fail(err, "domain %s", uuid);
	return dom;
}

int lv_dom_get(struct libvirt_drv *d, const char *uuid, virConnectPtr *c,
	       virDomainPtr *dom, char *err)
{
	int r;

	if (!uuid_valid(uuid))
		return err_set(err, EINVAL, "bad domain name");
	*c = lv_conn(d, err);
	if (!*c)
		return -EHOSTUNREACH;
	*dom = virDomainLookupByUUIDString(*c, uuid);
	if (*dom)
		return 0;
	r = lv_fail(err, "domain %s", uuid);   /* ENOENT: none such */
	virConnectClose(*c);
	return r;
}

void lv_dom_put(virDomainPtr dom, virConnectPtr c)
{
	virResetLastError();
	virDomainFree(dom);
	virConnectClose(c);
}

/* Nothing reaches the XML that is not of its exact grammar. */
int lv_domain_check(const struct virt_domain *v, char *err)
{
	if (!uuid_valid(v->uuid) || !word_safe(v->tenant) ||
	    !word_safe(v->vm) || !word_safe(v->image) ||
	    (v->bridge && *v->bridge && !word_safe(v->bridge)) ||
	    (v->bridge && *v->bridge && !mac_valid(v->mac)) ||
	    v->vcpus < 1 || v->vcpus > 256 || v->memory_mib < 16 ||
	    v->mtu > 9000)
		return err_set(err, EINVAL, "domain fields out of grammar");
	return 0;
}

void lv_domain_xml(const struct libvirt_drv *d, const struct virt_domain *v,
		   struct strbuf *x)
{
	char name[128];

	virt_domain_name(v->tenant, v->vm, name, sizeof name);
	sb_printf(x, "<domain type='%s'>\n", d->domtype);
	sb_printf(x, "  <name>%s</name>\n  <uuid>%s</uuid>\n", name, v->uuid);
	sb_printf(x, "  <metadata>\n    <" META_PREFIX ":vm xmlns:"
		  META_PREFIX "='" META_NS "' instance='%s' tenant='%s' "
		  "name='%s'/>\n  </metadata>\n", d->instance, v->tenant,
		  v->vm);
	sb_printf(x, "  <memory unit='MiB'>%llu</memory>\n",
		  (unsigned long long)v->memory_mib);
	sb_printf(x, "  <vcpu>%u</vcpu>\n", v->vcpus);
	sb_printf(x, "  <os>\n    <type arch='x86_64' machine='pc'>hvm</type>\n"
		  "    <kernel>%s/%s.kernel</kernel>\n"
		  "    <initrd>%s/%s.initrd</initrd>\n"
		  "    <cmdline>console=ttyS0 quiet panic=-1</cmdline>\n"
		  "  </os>\n", d->images, v->image, d->images, v->image);
	sb_puts(x, "  <features><acpi/></features>\n"
		   "  <on_poweroff>destroy</on_poweroff>\n"
		   "  <on_reboot>restart</on_reboot>\n"
		   "  <on_crash>destroy</on_crash>\n  <devices>\n");
	sb_printf(x, "    <disk type='file' device='disk'>\n"
		  "      <driver name='qemu' type='qcow2'/>\n"
		  "      <source file='%s/%s.qcow2'/>\n"
		  "      <target dev='vda' bus='virtio'/>\n    </disk>\n",
		  d->disks, v->uuid);
	if (v->bridge && *v->bridge) {
		sb_printf(x, "    <interface type='bridge'>\n"
			  "      <source bridge='%s'/>\n"
			  "      <mac address='%s'/>\n", v->bridge, v->mac);
		if (v->tap[0])
			sb_printf(x, "      <target dev='%s'/>\n", v->tap);
		sb_printf(x, "      <model type='virtio'/>\n"
			  "      <mtu size='%u'/>\n    </interface>\n",
			  v->mtu);
	}
	sb_printf(x, "    <serial type='file'>\n"
		  "      <source path='%s/%s.console' append='on'/>\n"
		  "      <target port='0'/>\n    </serial>\n"
		  "    <memballoon model='none'/>\n  </devices>\n</domain>\n",
		  d->disks, v->uuid);
}

int lv_define(struct virtdrv *vd, const struct virt_domain *v,
	      struct strbuf *xml, char *err)
{
	struct libvirt_drv *d = lv_of(vd);
	struct strbuf x = STRBUF_INIT;
	virConnectPtr c;
	virDomainPtr dom = NULL;
	char *desc;
	int r = lv_domain_check(v, err);

	if (r)
		return r;
	c = lv_conn(d, err);
	if (!c)
		return -EHOSTUNREACH;
	lv_domain_xml(d, v, &x);
	dom = virDomainDefineXML(c, sb_str(&x));
	if (!dom) {
		r = lv_fail(err, "defining %s:%s", v->tenant, v->vm);
		goto out;
	}
	if (xml) {
		desc = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE);
		sb_reset(xml);
		sb_puts(xml, desc ? desc : sb_str(&x));
		free(desc);
	}
out:
	if (dom)
		virDomainFree(dom);
	virConnectClose(c);
	sb_free(&x);
	return r;
}

int lv_undefine(struct virtdrv *vd, const char *uuid, char *err)
{
	virConnectPtr c = lv_conn(lv_of(vd), err);
	virDomainPtr dom;
	int r = 0, state, reason;

	if (!c)
		return -EHOSTUNREACH;
	dom = virDomainLookupByUUIDString(c, uuid);
	if (!dom) {
		virResetLastError();
		goto out;
	}
	if (virDomainGetState(dom, &state, &reason, 0) == 0 &&
	    lv_power_of(state) == VIRT_POWER_RUNNING)
		r = err_set(err, EBUSY, "domain %s is running", uuid);
	else if (virDomainUndefineFlags(dom, VIR_DOMAIN_UNDEFINE_NVRAM |
			VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA) < 0)
		r = lv_fail(err, "undefining %s", uuid);
	virDomainFree(dom);
out:
	virConnectClose(c);
	return r;
}

/* The user and group libvirt runs QEMU as (its DAC base label for our
 * domain type), from the host's capabilities: 0, or -ENOENT without
 * one (no DAC model: QEMU runs as root). */
static int qemu_label(virConnectPtr c, const char *domtype, uid_t *uid,
		      gid_t *gid)
{
	char want[64], *caps = virConnectGetCapabilities(c), *at;
	unsigned long u, g;
	int r = -ENOENT;

	if (!caps) {
		virResetLastError();
		return -ENOENT;
	}
	snprintf(want, sizeof want, "<baselabel type='%s'>+", domtype);
	at = strstr(caps, want);
	if (at && sscanf(at + strlen(want), "%lu:+%lu<", &u, &g) == 2) {
		*uid = (uid_t)u;
		*gid = (gid_t)g;
		r = 0;
	}
	free(caps);
	return r;
}

/* The first folder on the way to dir that uid (with its groups) may not
 * search, asked of a child that becomes that user: "" if none. */
static void first_closed(const char *dir, uid_t uid, gid_t gid,
			 const gid_t *groups, int ngroups, char *out,
			 size_t len)
{
	char path[PATH_MAX];
	int p[2], status;
	ssize_t n = 0;
	pid_t pid;

	out[0] = '\0';
	if (pipe2(p, O_CLOEXEC))
		return;
	pid = fork();
	if (pid == 0) {
		char *slash = path;

		if (setgroups((size_t)ngroups, groups) || setgid(gid) ||
		    setuid(uid))
			_exit(1);
		snprintf(path, sizeof path, "%s/", dir);
		while ((slash = strchr(slash + 1, '/'))) {
			*slash = '\0';
			if (access(path, X_OK)) {
				if (write(p[1], path, strlen(path)) < 0)
					_exit(1);
				_exit(0);
			}
			*slash = '/';
		}
		_exit(0);
	}
	close(p[1]);
	if (pid > 0) {
		n = read(p[0], out, len - 1);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	close(p[0]);
	out[n > 0 ? n : 0] = '\0';
}

/* A cloud of this host keeps the VM's disk and the image's kernel in
 * folders QEMU opens as its own user: one that only root may enter (a
 * state directory of mode 0700, say) would make every start fail in
 * QEMU. Asked once per connection, so that a start fails at once with
 * EACCES and what to do, before anything is made. */
int lv_reach(struct libvirt_drv *d, virConnectPtr c, char *err)
{
	const char *dirs[2] = { d->disks, d->images };
	char closed[PATH_MAX] = "", buf[4096], why[ERRLEN] = "";
	struct passwd pw, *pwp = NULL;
	gid_t groups[64];
	int ngroups = 64, r = 0;
	uid_t uid;
	gid_t gid;
	size_t i;

	if (strncmp(d->uri, "qemu:///", 8))
		return 0;   /* another host's folders: its operator's */
	pthread_mutex_lock(&d->lock);
	if (d->reach_conn == c) {   /* reached before: asked once */
		pthread_mutex_unlock(&d->lock);
		return 0;
	}
	pthread_mutex_unlock(&d->lock);
	if (qemu_label(c, d->domtype, &uid, &gid) == 0 && uid != 0) {
		if (getpwuid_r(uid, &pw, buf, sizeof buf, &pwp) || !pwp ||
		    getgrouplist(pwp->pw_name, gid, groups, &ngroups) < 0)
			ngroups = 0;
		for (i = 0; i < ARRAY_SIZE(dirs) && !closed[0]; i++)
			first_closed(dirs[i], uid, gid, groups, ngroups, closed,
				     sizeof closed);
		if (closed[0])
			r = err_set(why, EACCES, "cloud %s: QEMU runs as %s "
				    "(uid %u), which may not enter %.300s: give "
				    "it search permission (setfacl -m u:%s:x "
				    "%.300s), or name images: and disks: folders "
				    "it reaches in the clouds file", d->cloud,
				    pwp ? pwp->pw_name : "?", (unsigned)uid,
				    closed, pwp ? pwp->pw_name : "UID", closed);
	}
	if (r)   /* asked again next time: the operator may mend it */
		return err_set(err, -r, "%s", why);
	pthread_mutex_lock(&d->lock);
	d->reach_conn = c;
	pthread_mutex_unlock(&d->lock);
	return 0;
}

int lv_start(struct virtdrv *vd, const char *uuid, char *err)
{
	virConnectPtr c = lv_conn(lv_of(vd), err);
	virDomainPtr dom;
	int r = 0;

	if (!c)
		return -EHOSTUNREACH;
	r = lv_reach(lv_of(vd), c, err);
	if (r) {
		virConnectClose(c);
		return r;
	}
	dom = lv_domain(c, uuid, err);
	if (!dom) {
		r = -ENOENT;
	} else if (virDomainIsActive(dom) == 1) {
		int state, reason;

		if (virDomainGetState(dom, &state, &reason, 0) == 0 &&
		    state == VIR_DOMAIN_PAUSED && virDomainResume(dom) < 0)
			r = lv_fail(err, "resuming %s", uuid);
	} else if (virDomainCreate(dom) < 0) {
		r = lv_fail(err, "starting %s", uuid);
	}
	if (dom)
		virDomainFree(dom);
	virConnectClose(c);
	return r;
}

static int dom_power(virDomainPtr dom, enum virt_power *p)
{
	int state, reason;

	if (virDomainGetState(dom, &state, &reason, 0) < 0)
		return -1;
	*p = lv_power_of(state);
	return 0;
}

int lv_stop(struct virtdrv *vd, const char *uuid, int grace_ms,
	    char *err)
{
	enum virt_power p = VIRT_POWER_UNKNOWN;
	int64_t deadline = clock_ms() + grace_ms;
	virConnectPtr c;
	virDomainPtr dom;
	int r = lv_dom_get(lv_of(vd), uuid, &c, &dom, err);

	if (r)
		return r;
	if (dom_power(dom, &p) == 0 && p == VIRT_POWER_STOPPED)
		goto out;
	if (virDomainShutdownFlags(dom, VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN)
	    == 0) {
		while (clock_ms() < deadline) {
			if (dom_power(dom, &p) == 0 && p == VIRT_POWER_STOPPED)
				goto out;
			usleep(50000);
		}
		log_info("%s did not stop within %d ms: destroying it", uuid,
			 grace_ms);
	}
	virResetLastError();
	if (virDomainDestroy(dom) < 0 &&
	    !(dom_power(dom, &p) == 0 && p == VIRT_POWER_STOPPED))
		r = lv_fail(err, "stopping %s", uuid);
out:
	lv_dom_put(dom, c);
	return r;
}

int lv_power(struct virtdrv *vd, const char *uuid,
	     enum virt_power *out, char *err)
{
	virConnectPtr c;
	virDomainPtr dom;
	int r = lv_dom_get(lv_of(vd), uuid, &c, &dom, err);

	if (r)
		return r;
	if (dom_power(dom, out) < 0)
		r = lv_fail(err, "state of %s", uuid);
	lv_dom_put(dom, c);
	return r;
}

int lv_settle(struct virtdrv *vd, const char *uuid, int timeout_ms,
	      struct virt_settled *out, char *err)
{
	int64_t deadline = clock_ms() + timeout_ms;
	virDomainJobInfo job;
	virConnectPtr c;
	virDomainPtr dom;
	int state, reason;
	int r = lv_dom_get(lv_of(vd), uuid, &c, &dom, err);

	if (r)
		return r;
	while (virDomainGetJobInfo(dom, &job) == 0 &&
	       job.type != VIR_DOMAIN_JOB_NONE && clock_ms() < deadline)
		usleep(100000);
	virResetLastError();
	if (virDomainGetState(dom, &state, &reason, 0) < 0) {
		r = lv_fail(err, "state of %s", uuid);
	} else {
		out->power = lv_power_of(state);
		out->paused = state == VIR_DOMAIN_PAUSED;
	}
	lv_dom_put(dom, c);
	return r;
}

int lv_list(struct virtdrv *vd,
	    void (*fn)(void *ctx, const struct virt_seen *seen),
	    void *ctx, char *err)
{
	struct libvirt_drv *d = lv_of(vd);
	virConnectPtr c = lv_conn(d, err);
	virDomainPtr *doms = NULL;
	char want[96], alt[96];
	int i, n;

	if (!c)
		return -EHOSTUNREACH;
	snprintf(alt, sizeof alt, "instance='%s'", d->instance);
	n = virConnectListAllDomains(c, &doms, 0);
	if (n < 0) {
		n = lv_fail(err, "listing domains");
		virConnectClose(c);
		return n;
	}
	snprintf(want, sizeof want, "instance=\"%s\"", d->instance);
	for (i = 0; i < n; i++) {
		char uuid[VIR_UUID_STRING_BUFLEN];
		struct virt_seen s = { .uuid = uuid };
		char *meta;

		s.name = virDomainGetName(doms[i]);
		if (virDomainGetUUIDString(doms[i], uuid) < 0 ||
		    dom_power(doms[i], &s.power) < 0) {
			virDomainFree(doms[i]);
			continue;
		}
		meta = virDomainGetMetadata(doms[i],
					    VIR_DOMAIN_METADATA_ELEMENT,
					    META_NS, VIR_DOMAIN_AFFECT_CONFIG);
		/* libvirt writes the attribute back with either quote */
		s.ours = meta && (strstr(meta, want) || strstr(meta, alt));
		free(meta);
		virResetLastError();
		fn(ctx, &s);
		virDomainFree(doms[i]);
	}
	free(doms);
	virConnectClose(c);
	return 0;
}
