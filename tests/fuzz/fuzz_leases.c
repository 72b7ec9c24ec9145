/* What dnsmasq writes and maasfs reads: its lease file (a guest chooses
 * its MAC, its host name and its client id: only well-formed lines pass,
 * each one line of printable text) and its log lines (what a reload's
 * wait looks for). */
#include "fuzz.h"

#include "../../backend/host/dnsmasq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf out = STRBUF_INIT;
	char *s = fuzz_text(data, size);
	size_t i;

	char why[ERRLEN] = "";
	int r = dnsmasq_log_says(s, "/run/maasfs/i/dnsmasq/7.hosts", why);

	if (r < -4095 || r > 1 || (r < 0 && !strstr(why, "dnsmasq: ")))
		abort();
	free(s);
	s = fuzz_text(data, size);
	dnsmasq_leases_filter(s, &out);
	for (i = 0; i < out.len; i++)
		if ((unsigned char)out.s[i] < 0x20 && out.s[i] != '\n')
			abort();
	if (out.len && out.s[out.len - 1] != '\n')
		abort();
	sb_free(&out);
	free(s);
	return 0;
}
