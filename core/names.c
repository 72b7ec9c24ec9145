/* Names: the grammar of a maasfs name (lib/util's name_fault) with its
 * messages, DNS domains and labels, and the names maasfs keeps for itself
 * in each directory of the tree, which no object may take. */
#include "names.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

int name_check(const char *name, const char *what, char *err)
{
	switch (name_fault(name)) {
	case NAME_OK:
		return 0;
	case NAME_EMPTY:
		return err_set(err, EINVAL, "%s name is empty", what);
	case NAME_LONG:
		return err_set(err, EINVAL, "%s name '%.40s...' is longer than "
			       "%d characters", what, name, NAME_MAXLEN);
	case NAME_START:
		return err_set(err, EINVAL, "%s name '%s' starts with '%c'",
			       what, name, name[0]);
	default:
		return err_set(err, EINVAL, "%s name '%.40s' has a character "
			       "outside [A-Za-z0-9_.-]", what, name);
	}
}

int domain_check(const char *s, char *err)
{
	if (!dns_name_valid(s))
		return err_set(err, EINVAL, "'%.60s' is not a DNS domain "
			       "(labels of letters, digits and '-' joined by "
			       "dots)", s);
	return 0;
}

void dns_label_of(const char *name, size_t n, char *buf, size_t len)
{
	size_t i, out = 0;

	for (i = 0; i < n && name[i] && out + 1 < len && out < 63; i++) {
		char c = (char)tolower((unsigned char)name[i]);
		if (c == '_' || c == '.')
			c = '-';
		if (c == '-' && out == 0)
			continue;
		buf[out++] = c;
	}
	while (out > 0 && buf[out - 1] == '-')
		out--;
	buf[out] = '\0';
	if (out == 0)
		snprintf(buf, len, "vm");
}

static const char *const root_names[] = {
	"spec.yaml", "plan", "events", "topology.dot", "status", "clouds",
	NULL,
};
static const char *const subnets_names[] = { "new", NULL };
static const char *const vms_names[] = { NULL };

bool names_reserved(enum names_dir dir, const char *name)
{
	static const char *const *const dirs[] = {
		[NAMES_ROOT] = root_names,
		[NAMES_SUBNETS] = subnets_names,
		[NAMES_VMS] = vms_names,
	};
	const char *const *n;

	for (n = dirs[dir]; *n; n++)
		if (!strcmp(*n, name))
			return true;
	return false;
}

bool names_test_net(const char *name)
{
	return !strncmp(name, TEST_NET_PREFIX, strlen(TEST_NET_PREFIX));
}
