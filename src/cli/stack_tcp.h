/* TCP part of `tundra stack`: options, built-in services, the --connect client. */
#ifndef TUNDRA_CLI_STACK_TCP_H
#define TUNDRA_CLI_STACK_TCP_H

#include <stdbool.h>
#include <stdint.h>

#include "tundra/stack.h"
#include "tundra/tcp.h"

struct td_cli_tcp {
	/* options */
	bool off;             /* --no-tcp */
	bool no_services;     /* --no-tcp-services */
	int cc;               /* --tcp-cc */
	uint32_t buf_kib;     /* --tcp-buf KiB */
	uint32_t max_conns;   /* --tcp-max-conns */
	uint64_t mem_max;     /* --tcp-mem-max bytes */
	const char *connect;  /* --connect ADDR:PORT */
	uint64_t send_bytes;  /* --send N */
	uint64_t recv_bytes;  /* --recv N (0 = until EOF) */
	/* runtime */
	struct td_stack *st;
	struct td_tcp *tcp;
	struct td_tcp_services *svc;
	struct td_tcp_sock *cs;
	uint64_t sent, received, t_start, t_conn, t_end;
	bool shut, eof, done;
	int err;
};

/* Usage lines for the TCP options. */
extern const char td_cli_tcp_usage[];
/* name is the long option without dashes. 0, or -EINVAL for a bad value. */
int td_cli_tcp_opt(struct td_cli_tcp *t, const char *name, const char *val);
/* After td_stack_create: attach TCP and start the services. 0 or -errno. */
int td_cli_tcp_start(struct td_cli_tcp *t, struct td_stack *st);
/* Device ready: start the client when --connect was given. */
void td_cli_tcp_ready(struct td_cli_tcp *t);
/* Before td_stack_destroy: report the client, stop services. Returns the
 * exit code contribution (0, or 1 when the client failed). */
int td_cli_tcp_finish(struct td_cli_tcp *t);

#endif
