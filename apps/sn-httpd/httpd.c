/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sn-httpd: a static file server over HTTP/1.1 on the sealnet stack.
 *
 * GET and HEAD of regular files under --root, keep-alive and pipelining.
 * Files stream from pread() into sn_send as the send buffer allows, so a
 * large file never sits in memory. One thread, one epoll instance.
 */
#include <fcntl.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/app.h"
#include "http.h"

#define PROG          "sn-httpd"
#define CHUNK         (64u * 1024u)     /* bytes handed to one sn_send */
#define BATCH         16                /* sends or reads per event */
#define IDLE_NS       (60ull * 1000000000ull) /* idle keep-alive connections */
#define SWEEP_NS      1000000000ull

enum kind { K_LISTEN, K_CONN };

/* What an epoll event points at; first member of every tagged object. */
struct handle {
	enum kind kind;
	int fd;
};

struct hconn {
	struct handle h;
	uint32_t events;
	uint64_t last_ns;               /* last progress, for the idle timeout */
	char in[HTTP_MAX_HEAD];         /* request bytes not yet handled */
	size_t inlen;
	uint64_t discard;               /* request body still to skip */
	bool peer_eof;
	bool responding;
	bool close_after;               /* close once the response is out */
	char head[512];                 /* response head */
	size_t headoff, headlen;
	const char *body;               /* small fixed body (errors) */
	size_t bodyoff, bodylen;
	int file;                       /* kernel fd of the file, or -1 */
	uint64_t foff, fleft;
};

struct httpd {
	int ep;
	int rootfd;                     /* kernel fd of --root */
	const char *root;
	uint16_t port;
	struct handle lis[2];
	struct hconn **conns;           /* by descriptor, to free at exit */
	char *scratch;
	struct http_req req;            /* parsed request, reused */
};

struct status {
	int code;
	const char *reason;
	const char *body;
};

static const struct status statuses[] = {
	{ 200, "OK", NULL },
	{ 400, "Bad Request", "400 Bad Request\n" },
	{ 403, "Forbidden", "403 Forbidden\n" },
	{ 404, "Not Found", "404 Not Found\n" },
	{ 405, "Method Not Allowed", "405 Method Not Allowed\n" },
	{ 414, "URI Too Long", "414 URI Too Long\n" },
	{ 431, "Request Header Fields Too Large", "431 Request Header Fields Too Large\n" },
	{ 500, "Internal Server Error", "500 Internal Server Error\n" },
	{ 501, "Not Implemented", "501 Not Implemented\n" },
	{ 503, "Service Unavailable", "503 Service Unavailable\n" },
	{ 505, "HTTP Version Not Supported", "505 HTTP Version Not Supported\n" },
};

static const struct status *status_of(int code)
{
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
		if (statuses[i].code == code)
			return &statuses[i];
	return status_of(500);
}

static const char *content_type(const char *path)
{
	static const char *const types[][2] = {
		{ ".html", "text/html; charset=utf-8" }, { ".htm", "text/html; charset=utf-8" },
		{ ".txt", "text/plain; charset=utf-8" }, { ".css", "text/css" },
		{ ".js", "text/javascript" }, { ".json", "application/json" },
		{ ".png", "image/png" }, { ".jpg", "image/jpeg" }, { ".jpeg", "image/jpeg" },
		{ ".gif", "image/gif" }, { ".svg", "image/svg+xml" }, { ".ico", "image/x-icon" },
		{ ".pdf", "application/pdf" }, { ".wasm", "application/wasm" },
	};
	const char *dot = strrchr(path, '.');

	for (size_t i = 0; dot && !strchr(dot, '/') && i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcasecmp(dot, types[i][0]))
			return types[i][1];
	return "application/octet-stream";
}

static int on_opt(void *ctx, const struct sn_opt *opt, const char *value,
		  char *err, size_t errlen)
{
	struct httpd *d = ctx;

	if (!opt) {
		snprintf(err, errlen, "unexpected argument");
		return -1;
	}
	if (opt->id == 0)
		return app_parse_port(value, &d->port, err, errlen);
	d->root = value;
	return 0;
}

static void conn_close(struct httpd *d, struct hconn *c)
{
	sn_epoll_ctl(d->ep, SN_EPOLL_CTL_DEL, c->h.fd, NULL);
	sn_close(c->h.fd);
	d->conns[c->h.fd] = NULL;
	if (c->file >= 0)
		close(c->file);
	free(c);
}

/* Write the response head; extra is one more header line or "". */
static void put_head(struct hconn *c, int code, const char *type, uint64_t len,
		     const char *extra)
{
	const struct status *st = status_of(code);
	char date[64];
	struct tm tm;
	time_t now = time(NULL);
	int n;

	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	n = snprintf(c->head, sizeof(c->head),
		     "HTTP/1.1 %d %s\r\nServer: " PROG "\r\nDate: %s\r\n"
		     "Content-Type: %s\r\nContent-Length: %llu\r\n%sConnection: %s\r\n\r\n",
		     st->code, st->reason, date, type, (unsigned long long)len, extra,
		     c->close_after ? "close" : "keep-alive");
	c->headoff = 0;
	c->headlen = n > 0 && (size_t)n < sizeof(c->head) ? (size_t)n : 0;
	c->responding = true;
}

static void respond_error(struct hconn *c, int code, bool head_only)
{
	const struct status *st = status_of(code);
	size_t len = strlen(st->body);

	put_head(c, code, "text/plain; charset=utf-8", len,
		 code == 405 ? "Allow: GET, HEAD\r\n" : "");
	c->body = head_only ? NULL : st->body;
	c->bodyoff = 0;
	c->bodylen = head_only ? 0 : len;
}

/* Open rel under the root if it is a regular file or, for a directory, its
 * index.html. Returns the kernel fd, or -1 with errno. */
static int open_regular(struct httpd *d, char *rel, size_t cap, struct stat *st)
{
	for (int tries = 0; tries < 2; tries++) {
		int fd = openat(d->rootfd, rel, O_RDONLY | O_CLOEXEC);
		bool dir;

		if (fd < 0)
			return -1;
		if (fstat(fd, st) == 0 && S_ISREG(st->st_mode))
			return fd;
		dir = S_ISDIR(st->st_mode);
		close(fd);
		if (!dir)
			break;
		strncat(rel, rel[strlen(rel) - 1] == '/' ? "index.html" : "/index.html",
			cap - strlen(rel) - 1);
	}
	errno = ENOENT;
	return -1;
}

/* The file a request names, relative to the root ("/" is index.html).
 * Returns the kernel fd, or -1 with the status to answer in *code. */
static int open_file(struct httpd *d, const char *path, char *rel, size_t cap,
		     struct stat *st, int *code)
{
	int fd;

	while (*path == '/')
		path++;
	snprintf(rel, cap, "%s", *path ? path : "index.html");
	fd = open_regular(d, rel, cap, st);
	if (fd < 0)
		*code = errno == EACCES ? 403 : errno == EMFILE || errno == ENFILE ? 503 : 404;
	return fd;
}

/* With --secure the file is opened as the local user the peer's proven
 * identity maps to (--principals): file permissions decide what a peer
 * may fetch. A peer that maps to no one gets 403. */
static int open_file_as_peer(struct httpd *d, struct hconn *c, const char *path, char *rel,
			     size_t cap, struct stat *st, int *code)
{
	const struct sn_config *cfg = sn_config_current();
	int fd, e;

	if (!cfg || !cfg->secure)
		return open_file(d, path, rel, cap, st, code);
	if (sn_impersonate_socket_peer(c->h.fd, NULL, 0) < 0) {
		*code = 403;
		return -1;
	}
	fd = open_file(d, path, rel, cap, st, code);
	e = errno;
	if (sn_revert_impersonation() < 0) {
		/* Never serve on with someone else's credentials. */
		fprintf(stderr, PROG ": cannot revert impersonation: %s\n", strerror(errno));
		abort();
	}
	errno = e;
	return fd;
}

/* Answer one parsed request with a file or an error. */
static void respond(struct httpd *d, struct hconn *c, const struct http_req *r)
{
	bool head_only = r->method == HTTP_HEAD;
	char rel[HTTP_MAX_HEAD + 16];
	struct stat st;
	int code = 0, fd;

	c->close_after = !r->keep_alive;
	if (r->method == HTTP_OTHER) {
		respond_error(c, 405, false);
		return;
	}
	if (http_path_safe(r->path) < 0) {
		respond_error(c, 403, head_only);
		return;
	}
	fd = open_file_as_peer(d, c, r->path, rel, sizeof(rel), &st, &code);
	if (fd < 0) {
		respond_error(c, code, head_only);
		return;
	}
	put_head(c, 200, content_type(rel), (uint64_t)st.st_size, "");
	c->body = NULL;
	c->bodylen = 0;
	c->foff = 0;
	c->fleft = head_only ? 0 : (uint64_t)st.st_size;
	if (c->fleft)
		c->file = fd;
	else
		close(fd);
}

static void consume_in(struct hconn *c, size_t n)
{
	memmove(c->in, c->in + n, c->inlen - n);
	c->inlen -= n;
}

/* Skip request body bytes: GET and HEAD have no use for them. */
static void skip_body(struct hconn *c)
{
	size_t n = c->discard < c->inlen ? (size_t)c->discard : c->inlen;

	consume_in(c, n);
	c->discard -= n;
}

/* Start the next request in the buffer, if one is complete. */
static void next_request(struct httpd *d, struct hconn *c)
{
	int rc;

	skip_body(c);
	if (c->responding || c->discard || !c->inlen)
		return;
	rc = http_parse(c->in, c->inlen, &d->req);
	if (rc == HTTP_PARSE_MORE)
		return;
	if (rc != HTTP_PARSE_OK) {
		/* After a malformed request the stream cannot be trusted. */
		c->close_after = true;
		respond_error(c, rc, false);
		c->inlen = 0;
		return;
	}
	consume_in(c, d->req.head_len);
	c->discard = d->req.content_length;
	respond(d, c, &d->req);
	skip_body(c);
}

/* Bytes for one send: the rest of the head, then body or file. */
static ssize_t fill(struct httpd *d, struct hconn *c)
{
	size_t n = c->headlen - c->headoff, room;

	memcpy(d->scratch, c->head + c->headoff, n);
	room = CHUNK - n;
	if (c->body) {
		size_t b = c->bodylen - c->bodyoff;

		b = b < room ? b : room;
		memcpy(d->scratch + n, c->body + c->bodyoff, b);
		return (ssize_t)(n + b);
	}
	if (c->fleft) {
		size_t want = c->fleft < room ? (size_t)c->fleft : room;
		ssize_t r = pread(c->file, d->scratch + n, want, (off_t)c->foff);

		/* A file that shrank under us cannot honour its Content-Length. */
		if (r <= 0)
			return -1;
		n += (size_t)r;
	}
	return (ssize_t)n;
}

static void advance(struct hconn *c, size_t n)
{
	size_t h = c->headlen - c->headoff;

	h = n < h ? n : h;
	c->headoff += h;
	n -= h;
	if (c->body) {
		c->bodyoff += n;
		return;
	}
	c->foff += n;
	c->fleft -= n;
}

static bool response_done(const struct hconn *c)
{
	return c->headoff == c->headlen && c->bodyoff == c->bodylen && !c->fleft;
}

/* Send what the stack takes; 0 to go on, -1 to close. */
static int send_response(struct httpd *d, struct hconn *c)
{
	for (int i = 0; i < BATCH && c->responding; i++) {
		ssize_t n = fill(d, c), sent;

		if (n < 0)
			return -1;
		sent = n ? sn_send(c->h.fd, d->scratch, (size_t)n, 0) : 0;
		if (sent < 0)
			return app_again(errno) ? 0 : -1;
		advance(c, (size_t)sent);
		if (!response_done(c))
			continue;
		c->responding = false;
		c->body = NULL;
		c->bodyoff = c->bodylen = 0;
		if (c->file >= 0)
			close(c->file);
		c->file = -1;
		if (c->close_after)
			return -1;
		next_request(d, c);     /* a pipelined request may be waiting */
	}
	return 0;
}

static int read_requests(struct httpd *d, struct hconn *c)
{
	for (int i = 0; i < BATCH && !c->responding && !c->peer_eof; i++) {
		ssize_t n = sn_recv(c->h.fd, c->in + c->inlen,
				    sizeof(c->in) - c->inlen, 0);

		if (n == 0)
			c->peer_eof = true;
		else if (n < 0)
			return app_again(errno) ? 0 : -1;
		c->inlen += n > 0 ? (size_t)n : 0;
		next_request(d, c);
	}
	return 0;
}

/* Register what the connection waits for; false when it should close. */
static bool conn_update(struct httpd *d, struct hconn *c)
{
	uint32_t want = c->responding ? SN_EPOLLOUT : SN_EPOLLIN;

	if (!c->responding && c->peer_eof)
		return false;       /* nothing more can arrive, nothing to send */
	if (want == c->events)
		return true;
	c->events = want;
	return app_epoll_mod(d->ep, SN_EPOLL_CTL_MOD, c->h.fd, want, c) == 0;
}

static void conn_event(struct httpd *d, struct hconn *c, uint32_t ev)
{
	bool err = ev & (SN_EPOLLERR | SN_EPOLLHUP);

	c->last_ns = app_now_ns();
	if ((ev & SN_EPOLLIN || err) && read_requests(d, c) < 0)
		goto close;
	if (c->responding && send_response(d, c) < 0)
		goto close;
	if (conn_update(d, c))
		return;
close:
	conn_close(d, c);
}

static void conn_open(struct httpd *d, int fd)
{
	struct hconn *c = fd < SN_MAX_FDS ? calloc(1, sizeof(*c)) : NULL;

	if (!c) {
		sn_close(fd);
		return;
	}
	c->h = (struct handle){ K_CONN, fd };
	c->file = -1;
	c->events = SN_EPOLLIN;
	c->last_ns = app_now_ns();
	if (app_epoll_mod(d->ep, SN_EPOLL_CTL_ADD, fd, c->events, c) < 0) {
		free(c);
		sn_close(fd);
		return;
	}
	d->conns[fd] = c;
}

static void tcp_accept(struct httpd *d, int lfd)
{
	for (int i = 0; i < 64; i++) {
		int fd = sn_accept4(lfd, NULL, NULL, SOCK_NONBLOCK);

		if (fd < 0) {
			if (!app_again(errno) && errno != ECONNABORTED)
				fprintf(stderr, PROG ": accept: %s\n", strerror(errno));
			return;
		}
		app_report_security(PROG, fd, NULL, 0);
		conn_open(d, fd);
	}
}

/* Close keep-alive connections idle for IDLE_NS, so idle clients cannot
 * hold descriptors forever. */
static void sweep_idle(struct httpd *d, uint64_t now)
{
	for (int fd = 0; fd < SN_MAX_FDS; fd++) {
		struct hconn *c = d->conns[fd];

		if (c && now - c->last_ns > IDLE_NS)
			conn_close(d, c);
	}
}

static void httpd_open(struct httpd *d)
{
	static const int fam[2] = { AF_INET, AF_INET6 };

	d->ep = sn_epoll_create(1);
	if (d->ep < 0) {
		fprintf(stderr, PROG ": epoll_create: %s\n", strerror(errno));
		sn_cleanup();
		exit(1);
	}
	for (int i = 0; i < 2; i++) {
		d->lis[i] = (struct handle){ K_LISTEN, -1 };
		d->lis[i].fd = app_serve_any(PROG, d->ep, fam[i], SOCK_STREAM,
					     d->port, &d->lis[i]);
	}
}

static void httpd_close(struct httpd *d)
{
	for (int fd = 0; fd < SN_MAX_FDS; fd++)
		if (d->conns[fd])
			conn_close(d, d->conns[fd]);
	for (int i = 0; i < 2; i++)
		sn_close(d->lis[i].fd);
	sn_close(d->ep);
}

static void httpd_run(struct httpd *d)
{
	struct sn_epoll_event evs[APP_MAX_EVENTS];
	uint64_t next_sweep = app_now_ns() + SWEEP_NS;
	int n;

	while ((n = app_wait(PROG, d->ep, evs, APP_MAX_EVENTS, APP_WAIT_MS)) >= 0) {
		uint64_t now;

		for (int i = 0; i < n; i++) {
			struct handle *h = evs[i].data.ptr;

			if (h->kind == K_LISTEN)
				tcp_accept(d, h->fd);
			else
				conn_event(d, (struct hconn *)h, evs[i].events);
		}
		now = app_now_ns();
		if (now >= next_sweep) {
			sweep_idle(d, now);
			next_sweep = now + SWEEP_NS;
		}
	}
}

static void parse_opts(struct httpd *d, struct sn_config *cfg, int argc, char **argv)
{
	static const struct sn_opt opts[] = {
		{ "port", SN_OPT_REQUIRED, 0, "TCP port to serve on (1-65535)" },
		{ "root", SN_OPT_REQUIRED, 1, "directory to serve files from" },
		{ NULL, 0, 0, NULL },
	};
	struct stat st;

	app_parse(cfg, argc, argv, opts, on_opt, d,
		  "--port P --root DIR [common options]\n"
		  "HTTP/1.1 GET and HEAD of the files under DIR.");
	if (!d->port)
		app_usage_fail(PROG, "port", "required");
	if (!d->root)
		app_usage_fail(PROG, "root", "required");
	d->rootfd = open(d->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d->rootfd < 0 || fstat(d->rootfd, &st) < 0)
		app_usage_fail(PROG, "root", "%s: %s", d->root, strerror(errno));
}

int main(int argc, char **argv)
{
	struct sn_config cfg;
	struct httpd d = { .ep = -1, .rootfd = -1 };

	sn_config_init(&cfg, PROG);
	parse_opts(&d, &cfg, argc, argv);
	d.conns = calloc(SN_MAX_FDS, sizeof(*d.conns));
	d.scratch = malloc(CHUNK);
	if (!d.conns || !d.scratch) {
		fprintf(stderr, PROG ": out of memory\n");
		return 1;
	}
	app_start(&cfg);
	httpd_open(&d);
	app_ready(PROG);
	httpd_run(&d);
	httpd_close(&d);
	sn_cleanup();
	close(d.rootfd);
	free(d.conns);
	free(d.scratch);
	return 0;
}
