/* The clouds file (DESIGN §3). Without one, a single cloud named "local":
 * this host, qemu:///system, images and disks in the state directory. */
#ifndef MAAS_CONFIG_H
#define MAAS_CONFIG_H

#include <stddef.h>

#include "model.h"

#define CONFIG_LOCAL_CLOUD "local"

/* Fills m->clouds from path (NULL: the default local cloud). A bad file is
 * refused with its line and column. */
int config_load(struct model *m, const char *path, char *err);
/* The same from a document in memory (for tests). */
int config_parse(struct model *m, const char *name, const char *buf,
		 size_t len, char *err);

#endif
