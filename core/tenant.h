/* Tenants (a verb): mkdir, rmdir and chown of /<tenant> */
#ifndef MAAS_TENANT_H
#define MAAS_TENANT_H

#include "model.h"

/* Tenants: mkdir and rmdir of /<tenant>. */
int tenant_create(struct model *m, const char *name, char *err);
int tenant_delete(struct model *m, const char *name, char *err);
/* A plan's (plan.h), on a plan's copy of the model: the checks of
 * tenant_create and tenant_delete, then their effect on the model alone. */
int tenant_plan_create(struct model *m, const char *name, char *err);
int tenant_plan_delete(struct model *m, const char *name, char *err);
/* chown of /<tenant>: with -o allow_other its owner manages everything
 * inside it. (uint32_t)-1 leaves uid or gid as it is. */
int tenant_chown(struct model *m, const char *name, uint32_t uid,
		 uint32_t gid, char *err);
/* The tenant's quota: q over what it holds now (quota_parse). Lowering a
 * limit below what the tenant holds is allowed: it only stops growth. */
int tenant_set_quota(struct model *m, const char *name, const char *q,
		     char *err);

/* Removes a tenant's router namespace from a cloud no gateway of it
 * needs any more. */
void tenant_tidy(struct model *m, const char *tenant, struct cloud *c);

#endif
