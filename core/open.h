/* Opening and closing the model (the front door of core/): the clouds
 * file, the state directory and its lock, the drivers, the state writer
 * and the janitor; reconcile.h makes the clouds match the state */
#ifndef MAAS_OPEN_H
#define MAAS_OPEN_H

#include "model.h"

/* "libnl 3.7.0, libvirt 9.0.0, libyaml 0.2.5, libssh 0.10.6" */
void model_versions(char *buf, size_t len);

int model_open(const struct model_opts *o, struct model **out, char *err);
void model_free(struct model *m);

#endif
