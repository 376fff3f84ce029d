/* Reading a whole (bounded) file into memory, for decoders of captures. */
#ifndef TUNDRA_OS_READFILE_H
#define TUNDRA_OS_READFILE_H

#include <stddef.h>
#include <stdint.h>

/* Read path ("-" is standard input) into a new malloc'd buffer the caller
 * frees. Returns 0, or -errno (-EFBIG when it holds more than max bytes). */
int td_os_read_file(const char *path, size_t max, uint8_t **out, size_t *len);

#endif
