/* libyaml loaded on first use: only the exporter reads YAML, so `tundra ping` and `tundra stack` do not map it. */
/*
 * Why: every shared library a process links is mapped, relocated and paged
 * in at exec. libyaml cost each `tundra ping` ~76 KiB of resident memory,
 * which a one-shot sweep of 1 000 targets compares against fping's whole
 * footprint (2.3 MB). These definitions stand in for the seven libyaml
 * functions exporter_config.c calls (that file is unchanged; the unit tests
 * link it against libyaml directly). If the library cannot be loaded,
 * yaml_parser_initialize() says so and fails, which the exporter reports as
 * a configuration it cannot read; the others are reached only after it
 * succeeded.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <yaml.h>

#include "cli/lazy_lib.h"

#ifndef TD_YAML_SONAME
#define TD_YAML_SONAME "libyaml-0.so.2"
#endif

static struct {
	int (*parser_initialize)(yaml_parser_t *);
	void (*parser_delete)(yaml_parser_t *);
	void (*parser_set_input_string)(yaml_parser_t *, const unsigned char *, size_t);
	int (*parser_load)(yaml_parser_t *, yaml_document_t *);
	void (*document_delete)(yaml_document_t *);
	yaml_node_t *(*document_get_node)(yaml_document_t *, int);
	yaml_node_t *(*document_get_root_node)(yaml_document_t *);
	int ok;
} yl;

static pthread_once_t yaml_once = PTHREAD_ONCE_INIT;

static void yaml_load(void)
{
	void *h = td_lazy_open(TD_YAML_SONAME, "libyaml.so");
	if (!h)
		return; /* yaml_parser_initialize says why */
	TD_LAZY_RESOLVE(h, yl.parser_initialize, "yaml_parser_initialize");
	TD_LAZY_RESOLVE(h, yl.parser_delete, "yaml_parser_delete");
	TD_LAZY_RESOLVE(h, yl.parser_set_input_string, "yaml_parser_set_input_string");
	TD_LAZY_RESOLVE(h, yl.parser_load, "yaml_parser_load");
	TD_LAZY_RESOLVE(h, yl.document_delete, "yaml_document_delete");
	TD_LAZY_RESOLVE(h, yl.document_get_node, "yaml_document_get_node");
	TD_LAZY_RESOLVE(h, yl.document_get_root_node, "yaml_document_get_root_node");
	yl.ok = 1;
}

static int yaml_ready(void)
{
	pthread_once(&yaml_once, yaml_load);
	return yl.ok;
}

int yaml_parser_initialize(yaml_parser_t *parser)
{
	if (!yaml_ready()) {
		const char *why = dlerror();
		fprintf(stderr, "tundra: cannot load %s: %s\n", TD_YAML_SONAME,
			why ? why : "a libyaml function is missing");
		memset(parser, 0, sizeof(*parser));
		return 0;
	}
	return yl.parser_initialize(parser);
}

void yaml_parser_delete(yaml_parser_t *parser)
{
	if (yaml_ready())
		yl.parser_delete(parser);
}

void yaml_parser_set_input_string(yaml_parser_t *parser, const unsigned char *input, size_t size)
{
	if (yaml_ready())
		yl.parser_set_input_string(parser, input, size);
}

int yaml_parser_load(yaml_parser_t *parser, yaml_document_t *document)
{
	return yaml_ready() ? yl.parser_load(parser, document) : 0;
}

void yaml_document_delete(yaml_document_t *document)
{
	if (yaml_ready())
		yl.document_delete(document);
}

yaml_node_t *yaml_document_get_node(yaml_document_t *document, int index)
{
	return yaml_ready() ? yl.document_get_node(document, index) : NULL;
}

yaml_node_t *yaml_document_get_root_node(yaml_document_t *document)
{
	return yaml_ready() ? yl.document_get_root_node(document) : NULL;
}
