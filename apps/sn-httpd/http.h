/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sn-httpd request parsing (RFC 9112): a pure function from the bytes of a
 * request head to a struct, so it can be tested and fuzzed alone.
 */
#ifndef SN_HTTPD_HTTP_H
#define SN_HTTPD_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_MAX_HEAD  8192u    /* request line plus headers */

enum http_method { HTTP_GET, HTTP_HEAD, HTTP_OTHER };

struct http_req {
	enum http_method method;
	int minor;                  /* HTTP/1.minor */
	bool keep_alive;
	uint64_t content_length;    /* body bytes that follow the head */
	size_t head_len;            /* bytes of the head, blank line included */
	char path[HTTP_MAX_HEAD];   /* percent-decoded, query removed */
};

#define HTTP_PARSE_OK    0
#define HTTP_PARSE_MORE  1      /* no blank line yet: read more */

/*
 * Parse the request head at the start of buf. Returns HTTP_PARSE_OK with
 * *req filled, HTTP_PARSE_MORE, or the status to answer: 400 (malformed),
 * 414 (request line over HTTP_MAX_HEAD), 431 (head over HTTP_MAX_HEAD),
 * 501 (Transfer-Encoding), 505 (not HTTP/1.x).
 */
int http_parse(const char *buf, size_t len, struct http_req *req);

/* 0 when no segment of path is "..": such a path could leave the root. */
int http_path_safe(const char *path);

#endif
