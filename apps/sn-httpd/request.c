/* SPDX-License-Identifier: BSD-3-Clause */
/* HTTP/1.x request head parsing (RFC 9112 sections 2 to 6). */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "http.h"

/* A line of the head without its CRLF (or bare LF, RFC 9112 section 2.2). */
struct line {
	const char *p;
	size_t len;
};

/* The next line from *pos; 0 when no full line is left. */
static int next_line(const char *buf, size_t len, size_t *pos, struct line *l)
{
	const char *nl = memchr(buf + *pos, '\n', len - *pos);

	if (!nl)
		return 0;
	l->p = buf + *pos;
	l->len = (size_t)(nl - l->p);
	if (l->len && l->p[l->len - 1] == '\r')
		l->len--;
	*pos = (size_t)(nl - buf) + 1;
	return 1;
}

static bool is_tchar(unsigned char c)
{
	return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decode the path of a target into out; NUL and bad escapes: -1. */
static int decode_path(const char *t, size_t len, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < len && t[i] != '?' && t[i] != '#'; i++) {
		char c = t[i];

		if (c == '%') {
			int hi = i + 2 < len ? hexval(t[i + 1]) : -1;
			int lo = hi >= 0 ? hexval(t[i + 2]) : -1;

			if (lo < 0)
				return -1;
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		if (c == '\0')
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

/* origin-form "/path", or absolute-form "http://host/path" (section 3.2). */
static int parse_target(const char *t, size_t len, struct http_req *req)
{
	if (len >= 7 && !strncasecmp(t, "http://", 7)) {
		const char *slash = memchr(t + 7, '/', len - 7);

		if (!slash)
			return decode_path("/", 1, req->path);
		len -= (size_t)(slash - t);
		t = slash;
	}
	if (!len || t[0] != '/')
		return -1;
	return decode_path(t, len, req->path);
}

static int parse_version(const char *v, size_t len, struct http_req *req)
{
	if (len != 8 || strncmp(v, "HTTP/", 5) || !isdigit((unsigned char)v[5]) ||
	    v[6] != '.' || !isdigit((unsigned char)v[7]))
		return 400;
	if (v[5] != '1')
		return 505;
	req->minor = v[7] - '0';
	return 0;
}

/* method SP request-target SP HTTP-version (section 3). */
static int parse_request_line(const struct line *l, struct http_req *req)
{
	const char *sp1 = memchr(l->p, ' ', l->len), *sp2;
	size_t mlen, tlen;

	if (!sp1)
		return 400;
	mlen = (size_t)(sp1 - l->p);
	sp2 = memchr(sp1 + 1, ' ', l->len - mlen - 1);
	if (!sp2 || !mlen)
		return 400;
	for (size_t i = 0; i < mlen; i++)
		if (!is_tchar((unsigned char)l->p[i]))
			return 400;
	req->method = mlen == 3 && !memcmp(l->p, "GET", 3) ? HTTP_GET :
		      mlen == 4 && !memcmp(l->p, "HEAD", 4) ? HTTP_HEAD : HTTP_OTHER;
	tlen = (size_t)(sp2 - sp1 - 1);
	if (parse_target(sp1 + 1, tlen, req) < 0)
		return 400;
	return parse_version(sp2 + 1, l->len - mlen - tlen - 2, req);
}

/* Does a comma-separated header value hold token tok (any case)? */
static bool has_token(const char *v, size_t len, const char *tok)
{
	size_t tl = strlen(tok), i = 0;

	while (i < len) {
		size_t s, e;

		while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < len && v[i] != ',')
			i++;
		e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e - s == tl && !strncasecmp(v + s, tok, tl))
			return true;
	}
	return false;
}

static int parse_length(const char *v, size_t len, uint64_t *out)
{
	uint64_t n = 0;

	if (!len)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)v[i]) || n > (UINT64_MAX - 9) / 10)
			return -1;
		n = n * 10 + (uint64_t)(v[i] - '0');
	}
	*out = n;
	return 0;
}

struct head_state {
	bool host, close, keep_alive, length;
};

/* field-name ":" OWS field-value OWS (section 5). */
static int parse_header(const struct line *l, struct http_req *req,
			struct head_state *st)
{
	const char *colon = memchr(l->p, ':', l->len), *v;
	size_t nlen, vlen;
	uint64_t n;

	if (!colon || colon == l->p)
		return 400;
	nlen = (size_t)(colon - l->p);
	for (size_t i = 0; i < nlen; i++)
		if (!is_tchar((unsigned char)l->p[i]))
			return 400;     /* also rejects space before the colon and obs-fold */
	v = colon + 1;
	vlen = l->len - nlen - 1;
	while (vlen && (*v == ' ' || *v == '\t'))
		v++, vlen--;
	while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;
	if (nlen == 4 && !strncasecmp(l->p, "host", 4)) {
		st->host = true;
	} else if (nlen == 10 && !strncasecmp(l->p, "connection", 10)) {
		st->close |= has_token(v, vlen, "close");
		st->keep_alive |= has_token(v, vlen, "keep-alive");
	} else if (nlen == 14 && !strncasecmp(l->p, "content-length", 14)) {
		if (parse_length(v, vlen, &n) < 0 || (st->length && n != req->content_length))
			return 400;
		st->length = true;
		req->content_length = n;
	} else if (nlen == 17 && !strncasecmp(l->p, "transfer-encoding", 17)) {
		return 501;
	}
	return 0;
}

/* No complete head within len bytes: wait, or say which limit was hit. */
static int incomplete(const char *buf, size_t len, size_t start)
{
	if (len < HTTP_MAX_HEAD)
		return HTTP_PARSE_MORE;
	return memchr(buf + start, '\n', len - start) ? 431 : 414;
}

int http_parse(const char *buf, size_t len, struct http_req *req)
{
	struct head_state st = { 0 };
	struct line l;
	size_t pos = 0, start;
	int rc;

	memset(req, 0, offsetof(struct http_req, path));
	/* Blank lines before a request are ignored (section 2.2). */
	while (pos < len && (buf[pos] == '\r' || buf[pos] == '\n'))
		pos++;
	start = pos;
	if (!next_line(buf, len, &pos, &l))
		return incomplete(buf, len, start);
	rc = parse_request_line(&l, req);
	for (;;) {
		if (!next_line(buf, len, &pos, &l))
			return incomplete(buf, len, start);
		if (!l.len)
			break;
		if (!rc)
			rc = parse_header(&l, req, &st);
	}
	req->head_len = pos;
	if (!rc && req->minor >= 1 && !st.host)
		rc = 400;       /* Host is required in HTTP/1.1 (section 3.2) */
	req->keep_alive = req->minor >= 1 ? !st.close : st.keep_alive && !st.close;
	return rc;
}

int http_path_safe(const char *path)
{
	for (const char *s = path; *s;) {
		const char *e = strchr(s, '/');
		size_t n = e ? (size_t)(e - s) : strlen(s);

		if (n == 2 && s[0] == '.' && s[1] == '.')
			return -1;
		s += n;
		while (*s == '/')
			s++;
	}
	return 0;
}
