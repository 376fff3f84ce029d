/* A string -> index map for tundra exporter's set-up paths (duplicate checks, counter carry-over). */
#ifndef TUNDRA_CLI_EXPORTER_INDEX_H
#define TUNDRA_CLI_EXPORTER_INDEX_H

#include <stddef.h>

/* Open addressing over caller-owned keys: the strings must outlive the index.
 * Sized once for at most `n` keys, so a lookup is O(1) and 100 000 targets
 * build in linear time instead of comparing every pair. */
struct td_xidx {
	const char **key;
	size_t *klen;
	size_t *val;
	size_t mask;
};

/* 0 or -ENOMEM. */
int td_xidx_init(struct td_xidx *x, size_t n);
void td_xidx_free(struct td_xidx *x);

/* The value stored for key (len bytes), or (size_t)-1. */
size_t td_xidx_get(const struct td_xidx *x, const char *key, size_t len);

/* Insert key -> val unless present. Returns the value already stored for
 * key, or (size_t)-1 when it was inserted. The index never fills: it was sized
 * for n keys at init and callers insert at most n. */
size_t td_xidx_put(struct td_xidx *x, const char *key, size_t len, size_t val);

#endif
