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

/* The document of every tenant (tenant NULL) or of one. The caller holds
 * m->lock. */
int spec_show(const struct model *m, const char *tenant, struct strbuf *out);
/* Validates the document (nothing is changed if any part is wrong: the
 * errno, and "spec.yaml:LINE:COL: why" in err), then applies it. Returns
 * the number of changes made, or -errno of the first step that failed
 * (the steps before it stay done; the failure is in err). */
int spec_apply(struct model *m, const char *tenant, const char *buf,
	       size_t len, char *err);

#endif
