/* A string -> index map for tundra exporter's set-up paths (FNV-1a, open addressing). */
#include "cli/exporter_index.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ull;
	}
	return h;
}

int td_xidx_init(struct td_xidx *x, size_t n)
{
	size_t cap = 16;
	while (cap < 2 * n + 1)
		cap *= 2;
	x->key = calloc(cap, sizeof(*x->key));
	x->klen = calloc(cap, sizeof(*x->klen));
	x->val = calloc(cap, sizeof(*x->val));
	x->mask = cap - 1;
	if (!x->key || !x->klen || !x->val) {
		td_xidx_free(x);
		return -ENOMEM;
	}
	return 0;
}

void td_xidx_free(struct td_xidx *x)
{
	free(x->key);
	free(x->klen);
	free(x->val);
	memset(x, 0, sizeof(*x));
}

/* Slot holding key, or the empty slot where it would go. */
static size_t slot(const struct td_xidx *x, const char *key, size_t len)
{
	size_t i = (size_t)hash(key, len) & x->mask;
	while (x->key[i] && !(x->klen[i] == len && memcmp(x->key[i], key, len) == 0))
		i = (i + 1) & x->mask;
	return i;
}

size_t td_xidx_get(const struct td_xidx *x, const char *key, size_t len)
{
	size_t i;
	if (!x->key)
		return (size_t)-1;
	i = slot(x, key, len);
	return x->key[i] ? x->val[i] : (size_t)-1;
}

size_t td_xidx_put(struct td_xidx *x, const char *key, size_t len, size_t val)
{
	size_t i = slot(x, key, len);
	if (x->key[i])
		return x->val[i];
	x->key[i] = key;
	x->klen[i] = len;
	x->val[i] = val;
	return (size_t)-1;
}
