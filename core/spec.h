/* spec.yaml (DESIGN §6): the desired state of the estate (at the root) or
 * of one tenant, in the schema of state.yaml less what maasfs chooses
 * itself (ids, VNIs, MACs, addresses, UUIDs). Reading gives canonical
 * YAML; a document written whole is validated whole, then its difference
 * from the model is applied step by step through the same tree operations
 * a user would do by hand, in a safe order. */
#ifndef MAAS_SPEC_H
#define MAAS_SPEC_H

#include <stddef.h>

#include "../lib/util.h"
#include "model.h"

/* A document describes at most this many tenants, subnets and VMs in all
 * (E2BIG past it); with its size (4 MiB, fs/) and depth (YDOC_DEPTH_MAX)
 * it bounds the time one document takes to read. */
#define SPEC_OBJECTS_MAX 20000
/* Tenants whose own documents apply at once, at most. */
#define SPEC_APPLYING_MAX 256

/* The document of every tenant (tenant NULL) or of one. The caller holds
 * m->lock. */
int spec_show(const struct model *m, const char *tenant, struct strbuf *out);
/* Validates the document (nothing is changed if any part is wrong: the
 * errno, and "spec.yaml:LINE:COL: why" in err), then applies it. It is
 * read without the model's lock, and waits only for another document of
 * the same tenant (the root's: for every other document). Returns
 * the number of changes made, or -errno of the first step that failed
 * (the steps before it stay done; the failure is in err). Its plan is
 * made first (spec_plan): a concern there, and nothing is done. */
int spec_apply(struct model *m, const char *tenant, const char *buf,
	       size_t len, char *err);

/* A plan (plan.h): the document validated as spec_apply does, then the
 * steps it would take worked out on a copy of the model, with their costs
 * and concerns, kept for the plan file of the root (tenant NULL) or of
 * the tenant; nothing else changes. 0, or -errno of a bad document. */
int spec_plan(struct model *m, const char *tenant, const char *buf,
	      size_t len, char *err);
/* The plan file: the last plan made there. The caller holds m->lock. */
int spec_plan_show(const struct model *m, const char *tenant,
		   struct strbuf *out);

#endif
