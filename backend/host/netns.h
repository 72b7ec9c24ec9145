/* Named network namespaces, made and removed the way iproute2's
 * ip/ipnetns.c does, so that `ip netns list` and `ip -n` see them. */
#ifndef MAAS_NETNS_H
#define MAAS_NETNS_H

#include <stddef.h>

#define NETNS_RUN_DIR "/run/netns"

/* Creates /run/netns/NAME bound to a fresh namespace; -EEXIST if the name
 * is taken. The calling thread's namespace is unchanged afterwards. */
int netns_add(const char *name, char *err);
/* Unmounts and removes /run/netns/NAME; 0 if it was not there. */
int netns_del(const char *name, char *err);
/* O_RDONLY descriptor of the namespace, -ENOENT if there is none, -EIO
 * if the file is not a namespace. */
int netns_open(const char *name);
/* Descriptor of the calling thread's current namespace. */
int netns_open_self(void);
/* Moves the calling thread into the namespace. */
int netns_enter(int fd);
/* Calls fn(arg) with the calling thread in namespace nsfd (< 0: where
 * it is), then brings the thread back: what fn opens there (a socket)
 * stays there. fn's result, or -errno with err set when the namespace
 * cannot be entered. */
int netns_call(int nsfd, int (*fn)(void *arg), void *arg, char *err);
/* Calls fn for every namespace name starting with prefix. */
int netns_list(const char *prefix, void (*fn)(const char *name, void *ctx),
	       void *ctx);

#endif
