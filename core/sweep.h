/* The sweep (an engine, below the janitor and reconcile): what of ours a
 * cloud holds that the state does not want there goes. */
#ifndef MAAS_SWEEP_H
#define MAAS_SWEEP_H

#include "model.h"

/* Removes from c the domains and disk files of ours the
 * state does not want there: 0 when nothing is left to do, 1 when
 * something must wait (a VM busy, the cloud or the VM's home out of
 * reach). Never a disk whose VM's location does not hold its own, never
 * a file of a VM the state does not know (a disk directory may be
 * shared), never a domain that runs. */
int sweep_cloud(struct model *m, struct cloud *c);

#endif
