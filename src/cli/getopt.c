/* getopt_long with glibc's error messages, whatever the C library.
 *
 * iputils and fping users see glibc's words ("invalid option -- 'Z'"); musl
 * words them its own way ("unrecognized option: Z"). The library's getopt_long
 * still parses (permutation, abbreviations, '+'), with its messages off; the
 * message is written here, in glibc 2.36's format, from what getopt_long
 * left in optind and optopt. */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

/* The long option an argument "--name[=value]" selects: exact name, else the
 * only one it abbreviates; NULL when none or several (*several set). */
static const struct option *long_of(const struct option *lo, const char *arg, int *several)
{
	const char *name = arg + 2;
	size_t n = strcspn(name, "=");
	const struct option *hit = NULL;
	*several = 0;
	for (const struct option *o = lo; o && o->name; o++) {
		if (strncmp(o->name, name, n) != 0)
			continue;
		if (strlen(o->name) == n)
			return o;
		if (hit)
			*several = 1;
		else
			hit = o;
	}
	return *several ? NULL : hit;
}

static void ambiguous(const char *prog, const struct option *lo, const char *arg)
{
	const char *name = arg + 2;
	size_t n = strcspn(name, "=");
	fprintf(stderr, "%s: option '%s' is ambiguous; possibilities:", prog, arg);
	for (const struct option *o = lo; o && o->name; o++)
		if (!strncmp(o->name, name, n))
			fprintf(stderr, " '--%s'", o->name);
	fputc('\n', stderr);
}

int td_getopt_long(int argc, char *const argv[], const char *optstring, const struct option *lo,
		   int *li)
{
	char os[128];
	size_t k = 0;
	if (*optstring == '+' || *optstring == '-')
		os[k++] = *optstring++;
	if (*optstring == ':')
		optstring++;
	os[k++] = ':'; /* a missing argument returns ':', not '?' */
	snprintf(os + k, sizeof(os) - k, "%s", optstring);

	int saved = opterr;
	opterr = 0;
	int c = getopt_long(argc, argv, os, lo, li);
	opterr = saved;
	if (c != '?' && c != ':')
		return c;

	const char *prog = argc > 0 ? argv[0] : "tundra";
	/* The element getopt_long just left (a short option inside a cluster
	 * such as -Zq leaves optind on its own element, the one before may be
	 * anything: the checks below only trust it when it names the option). */
	const char *el = optind > 0 && optind <= argc ? argv[optind - 1] : "";
	bool is_long = !strncmp(el, "--", 2) && el[2];
	int several = 0;
	const struct option *o = is_long ? long_of(lo, el, &several) : NULL;

	if (c == ':') {
		if (o && o->val == optopt && o->has_arg == required_argument)
			fprintf(stderr, "%s: option '--%s' requires an argument\n", prog, o->name);
		else
			fprintf(stderr, "%s: option requires an argument -- '%c'\n", prog, optopt);
	} else if (optopt == 0 && is_long) {
		if (several)
			ambiguous(prog, lo, el);
		else
			fprintf(stderr, "%s: unrecognized option '%s'\n", prog, el);
	} else if (o && o->val == optopt && o->has_arg == no_argument && strchr(el, '=')) {
		fprintf(stderr, "%s: option '--%s' doesn't allow an argument\n", prog, o->name);
	} else {
		fprintf(stderr, "%s: invalid option -- '%c'\n", prog, optopt);
	}
	return '?';
}
