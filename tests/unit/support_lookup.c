/* Lookup of golden packets by name for the unit tests. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support_vectors.h"

const struct td_test_vector *td_test_vector(const char *name)
{
	for (const struct td_test_vector *v = td_test_vectors; v->name; v++)
		if (!strcmp(v->name, name))
			return v;
	fprintf(stderr, "no test vector %s\n", name);
	abort();
}
