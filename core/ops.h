/* Operations as a user does them (the front door, above node.h): mkdir
 * and rmdir of a node by its kind, and the end of every operation, from a
 * file or from a spec.yaml step alike: a failure recorded in the nearest
 * status file and the log, and an event either way. */
#ifndef MAAS_OPS_H
#define MAAS_OPS_H

#include "node.h"

/* mkdir and rmdir of n: the verb of its kind; the reason in err. */
int op_mkdir(struct model *m, const struct node *n, char *err);
int op_rmdir(struct model *m, const struct node *n, char *err);
/* Records a failed operation in the nearest status file, and the log. */
void op_record_error(struct model *m, const struct node *n,
		     const char *verb, int code, const char *msg);
/* The end of an operation: returns r; a failure goes to the nearest
 * status, and an event tells either way (value, len: what was written). */
int op_done(struct model *m, const struct node *n, const char *verb,
	    const char *value, size_t len, int r, const char *err);

#endif
