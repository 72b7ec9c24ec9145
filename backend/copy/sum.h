/* The SHA-256 both ends of a copy compute (copy.c, nbd.c). */
#ifndef MAAS_COPY_SUM_H
#define MAAS_COPY_SUM_H

#include <openssl/evp.h>

/* A SHA-256 context, or NULL (out of memory). */
EVP_MD_CTX *copy_hash_new(void);
/* Its COPY_SUM_LEN bytes into sum: 0 or -EIO. */
int copy_hash_end(EVP_MD_CTX *h, unsigned char *sum);

#endif
