/* libmicrohttpd loaded on first use: only `tundra exporter` serves HTTP, so the other commands do not load it. */
/*
 * Why: libmicrohttpd pulls in GnuTLS and eight more libraries whose
 * relocations and constructors cost every `tundra` start about 1 ms of CPU
 * and 3 MB of resident memory (measured: an empty program linked with
 * -lmicrohttpd starts in 1.97 ms of CPU, without it in 0.77 ms). A one-shot
 * `tundra ping` sweep of 1 000 targets does its own work in about 3 ms, so
 * that load was a quarter of its run. These definitions stand in for the seven
 * libmicrohttpd functions the exporter calls (exporter_http.c is unchanged):
 * the first call dlopen()s the library and every call goes through the
 * resolved pointer. If the library cannot be loaded, MHD_start_daemon()
 * returns NULL, which the exporter already reports as a failure to listen;
 * the other six are reached only through a running daemon.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <microhttpd.h>

#include "cli/lazy_lib.h"

#ifndef TD_MHD_SONAME
#define TD_MHD_SONAME "libmicrohttpd.so.12"
#endif

static struct {
	struct MHD_Daemon *(*start_va)(unsigned, uint16_t, MHD_AcceptPolicyCallback, void *,
				       MHD_AccessHandlerCallback, void *, va_list);
	void (*stop)(struct MHD_Daemon *);
	struct MHD_Response *(*from_buffer)(size_t, void *, enum MHD_ResponseMemoryMode);
	struct MHD_Response *(*from_buffer_cb)(size_t, void *, MHD_ContentReaderFreeCallback,
					       void *);
	void (*destroy)(struct MHD_Response *);
	enum MHD_Result (*add_header)(struct MHD_Response *, const char *, const char *);
	enum MHD_Result (*queue)(struct MHD_Connection *, unsigned, struct MHD_Response *);
	int ok;
} mhd;

static pthread_once_t mhd_once = PTHREAD_ONCE_INIT;

static void mhd_load(void)
{
	void *h = td_lazy_open(TD_MHD_SONAME, "libmicrohttpd.so");
	if (!h)
		return; /* MHD_start_daemon says why */
	TD_LAZY_RESOLVE(h, mhd.start_va, "MHD_start_daemon_va");
	TD_LAZY_RESOLVE(h, mhd.stop, "MHD_stop_daemon");
	TD_LAZY_RESOLVE(h, mhd.from_buffer, "MHD_create_response_from_buffer");
	TD_LAZY_RESOLVE(h, mhd.from_buffer_cb, "MHD_create_response_from_buffer_with_free_callback_cls");
	TD_LAZY_RESOLVE(h, mhd.destroy, "MHD_destroy_response");
	TD_LAZY_RESOLVE(h, mhd.add_header, "MHD_add_response_header");
	TD_LAZY_RESOLVE(h, mhd.queue, "MHD_queue_response");
	mhd.ok = 1;
}

static int mhd_ready(void)
{
	pthread_once(&mhd_once, mhd_load);
	return mhd.ok;
}

struct MHD_Daemon *MHD_start_daemon(unsigned int flags, uint16_t port, MHD_AcceptPolicyCallback apc,
				    void *apc_cls, MHD_AccessHandlerCallback dh, void *dh_cls, ...)
{
	if (!mhd_ready()) {
		fprintf(stderr, "tundra: cannot load %s: %s\n", TD_MHD_SONAME, dlerror());
		return NULL;
	}
	va_list ap;
	va_start(ap, dh_cls);
	struct MHD_Daemon *d = mhd.start_va(flags, port, apc, apc_cls, dh, dh_cls, ap);
	va_end(ap);
	return d;
}

void MHD_stop_daemon(struct MHD_Daemon *daemon)
{
	if (mhd_ready())
		mhd.stop(daemon);
}

struct MHD_Response *MHD_create_response_from_buffer(size_t size, void *buffer,
						     enum MHD_ResponseMemoryMode mode)
{
	return mhd_ready() ? mhd.from_buffer(size, buffer, mode) : NULL;
}

struct MHD_Response *MHD_create_response_from_buffer_with_free_callback_cls(
	size_t size, void *buffer, MHD_ContentReaderFreeCallback crfc, void *crfc_cls)
{
	return mhd_ready() ? mhd.from_buffer_cb(size, buffer, crfc, crfc_cls) : NULL;
}

void MHD_destroy_response(struct MHD_Response *response)
{
	if (mhd_ready())
		mhd.destroy(response);
}

enum MHD_Result MHD_add_response_header(struct MHD_Response *response, const char *header,
					const char *content)
{
	return mhd_ready() ? mhd.add_header(response, header, content) : MHD_NO;
}

enum MHD_Result MHD_queue_response(struct MHD_Connection *connection, unsigned int status_code,
				   struct MHD_Response *response)
{
	return mhd_ready() ? mhd.queue(connection, status_code, response) : MHD_NO;
}
