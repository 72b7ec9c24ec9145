/* Reconcile (an engine): at mount, the clouds made to match the state */
#ifndef MAAS_RECONCILE_H
#define MAAS_RECONCILE_H

struct model;

/* Makes the kernel and dnsmasq match the loaded state, then removes what
 * is ours but not in it. Problems go to the objects' status. */
void model_reconcile(struct model *m);

#endif
