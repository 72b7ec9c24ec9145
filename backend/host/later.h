/* Work that must not hold up a request: releasing a kernel object whose
 * release waits for a grace period (the netlink socket of a libnftables
 * context after a transaction, a packet socket: 5-19 ms each here). A
 * thread of its own runs each call once it is LATER_MS old (by then the
 * kernel's deferred work is done and the release is quick), oldest first;
 * if the queue is full the caller runs the oldest one itself. */
#ifndef MAASFS_LATER_H
#define MAASFS_LATER_H

#define LATER_MS 100

void later(void (*fn)(void *), void *arg);

#endif
