/* A cloud's state and its evacuation (an engine, issue 19 part 3):
 * `echo drain > clouds/<c>/state` moves every subnet's gateway and DHCP
 * and every VM off cloud c to the others, several VMs at a time, and c
 * takes no new placements until `echo active > clouds/<c>/state`. */
#ifndef MAAS_EVACUATE_H
#define MAAS_EVACUATE_H

#include "model.h"

/* A write to clouds/<c>/state: "drain" or "active". */
int cloud_set_state(struct model *m, const char *cloud, const char *value,
		    char *err);
/* Its lines in clouds/<c>/status (none while active and never drained).
 * The caller holds the lock. */
void cloud_evac_show(const struct cloud *c, struct strbuf *out);

#endif
