/* The value parsers a write reaches: CIDRs, address ranges, sizes,
 * quotas, names, DNS domains and labels. The first byte picks one; the
 * rest is the value. A value parsed must format back to one that parses
 * to the same thing. */
#include "fuzz.h"

#include <assert.h>

#include "../../core/cidr.h"
#include "../../core/names.h"
#include "../../core/units.h"

static void one_cidr(const char *s)
{
	struct cidr c, again;
	char err[ERRLEN], buf[CIDR_STRLEN];
	uint32_t first, last;

	if (cidr_parse(s, &c, err))
		return;
	cidr_format(&c, buf);
	assert(cidr_parse(buf, &again, err) == 0);
	assert(again.net == c.net && again.prefix == c.prefix);
	cidr_default_range(&c, &first, &last);
	(void)cidr_check_range(&c, first, last, err);
}

static void one_range(const char *s)
{
	struct cidr c;
	char err[ERRLEN];
	uint32_t first, last;

	if (cidr_parse("10.0.0.0/16", &c, err))
		abort();
	if (cidr_parse_range(&c, s, &first, &last, err) == 0)
		assert(first <= last);
}

static void one_size(const char *s)
{
	uint64_t mib, again;
	char err[ERRLEN], buf[32];

	if (size_parse(s, &mib, err))
		return;
	size_format(mib, buf, sizeof buf);
	assert(size_parse(buf, &again, err) == 0 && again == mib);
}

static void one_quota(const char *s)
{
	struct quota q, again;
	char err[ERRLEN], buf[160];

	quota_unlimited(&q);
	if (quota_parse(s, &q, err))
		return;
	quota_format(&q, buf, sizeof buf);
	quota_unlimited(&again);
	assert(quota_parse(buf, &again, err) == 0);
	assert(!memcmp(&q, &again, sizeof q));
}

static void one_name(const char *s)
{
	char err[ERRLEN], label[64];

	(void)name_check(s, "fuzz", err);
	(void)domain_check(s, err);
	dns_label_of(s, strlen(s), label, sizeof label);
	assert(strlen(label) > 0 && strlen(label) < sizeof label);
	text_clean(err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static void (*const fns[])(const char *) = {
		one_cidr, one_range, one_size, one_quota, one_name,
	};
	char *s;

	if (size < 1)
		return 0;
	s = fuzz_text(data + 1, size - 1);
	fns[data[0] % (sizeof fns / sizeof fns[0])](s);
	free(s);
	return 0;
}
