/* The tundra command: dispatch to subcommands. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

/* Subcommand entry points are declared next to the table they fill. */
int td_cmd_ping(int argc, char **argv);
int td_cmd_decode(int argc, char **argv);
int td_cmd_stack(int argc, char **argv);

const struct td_cli_cmd td_cli_cmds[] = {
	{"ping", "ICMP echo to one host or a hundred thousand, rootless", td_cmd_ping},
	{"decode", "print the layers of each packet in a pcap file", td_cmd_decode},
	{"stack", "a userspace IPv4/IPv6 host at the far end of a TUN device", td_cmd_stack},
	{NULL, NULL, NULL},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: tundra COMMAND [ARGS...]\n\ncommands:\n");
	for (const struct td_cli_cmd *c = td_cli_cmds; c->name; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fprintf(f, "\n  tundra COMMAND --help   options of one command\n"
		   "  tundra --version\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("tundra %s\n", TD_VERSION);
		return 0;
	}
	for (const struct td_cli_cmd *c = td_cli_cmds; c->name; c++)
		if (!strcmp(argv[1], c->name))
			return c->run(argc - 1, argv + 1);
	fprintf(stderr, "tundra: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return 2;
}
