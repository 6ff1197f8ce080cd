/*
 * http.h - the HTTP client of skyc, on libcurl.
 *
 * http_download() fetches one URL (http, https or file) into a new file:
 * it writes PATH.part, checks the status, then renames it over PATH, so
 * PATH is never left half-written. Redirects are followed; the transfer
 * fails if it stalls for 30 s.
 */
#ifndef SKYC_CORE_HTTP_H
#define SKYC_CORE_HTTP_H

#include "core/common.h"
#include "core/error.h"

/* libcurl's global set-up, once per process (thread-safe). Every user of
 * libcurl calls it before its first easy handle. */
void http_global_init(void);

/* Returns SKYC_OK, SKYC_E_NOT_FOUND on 404, SKYC_E_NETWORK or SKYC_E_IO. */
enum skyc_err http_download(const char *url, const char *path,
                            struct skyc_error *err);

#endif
