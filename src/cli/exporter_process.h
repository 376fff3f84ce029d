/* The process_* metrics of tundra exporter, read from /proc/self. */
#ifndef TUNDRA_CLI_EXPORTER_PROCESS_H
#define TUNDRA_CLI_EXPORTER_PROCESS_H

#include "cli/exporter_metrics.h"

/* Fill *p (p->valid on success); returns 0 or -1 when /proc is unreadable. */
int td_exp_process_read(struct td_expm_process *p);

#endif
