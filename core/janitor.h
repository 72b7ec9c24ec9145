/* The janitor: what could not be removed from a cloud while it was out of
 * reach (the disk a cut-short migration copied there, a domain) goes once
 * the cloud is back. A thread looks at every cloud's status once a
 * second; a cloud that comes up, or that an operation asked for
 * (janitor_poke), is swept (sweep.h). */
#ifndef MAAS_JANITOR_H
#define MAAS_JANITOR_H

#include "model.h"

struct janitor *janitor_new(struct model *m);
/* The thread starts (after the mount's reconcile) and ends (before the
 * drivers go). stop waits for a sweep under way. */
int janitor_start(struct janitor *j);
void janitor_stop(struct janitor *j);
void janitor_free(struct janitor *j);
/* Cloud c holds leftovers: sweep it as soon as it is up. */
void janitor_poke(struct janitor *j, const struct cloud *c);

#endif
