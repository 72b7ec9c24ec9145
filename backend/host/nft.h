/* nftables through libnftables, in process (no nft program): maasfs's own
 * tables in a namespace, each written whole in one transaction. */
#ifndef MAAS_NFT_H
#define MAAS_NFT_H

/* Runs cmds (nft's language) in the namespace nsfd (< 0: the calling
 * thread's) as one transaction: all or nothing. 0, or -errno with the
 * first line nftables gave in err. */
int nft_run(int nsfd, const char *cmds, char *err);
/* Runs a listing command (list tables ...) and appends what nftables
 * prints to out. */
struct strbuf;
int nft_list(int nsfd, const char *cmd, struct strbuf *out, char *err);

#endif
