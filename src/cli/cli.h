/* Entry points of the tundra subcommands; each returns the process exit code. */
#ifndef TUNDRA_CLI_H
#define TUNDRA_CLI_H

struct td_cli_cmd {
	const char *name;
	const char *summary;
	int (*run)(int argc, char **argv); /* argv[0] is the subcommand name */
};

/* The table, in src/cli/main.c. */
extern const struct td_cli_cmd td_cli_cmds[];

struct option;
/* getopt_long, its errors reported in glibc's words under argv[0] (as iputils
 * and fping show them, whatever the C library); returns '?' after one
 * (src/cli/getopt.c). */
int td_getopt_long(int argc, char *const argv[], const char *optstring, const struct option *lo,
		   int *li);

#endif
