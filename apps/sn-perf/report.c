/* SPDX-License-Identifier: BSD-3-Clause */
/* sn-perf client output: one human line, or one JSON object line. */
#include "client.h"

/* A JSON object written field by field on one line. */
struct json {
	FILE *f;
	bool first;
};

static void json_key(struct json *j, const char *key)
{
	fprintf(j->f, "%s\"%s\":", j->first ? "{" : ",", key);
	j->first = false;
}

static void json_u64(struct json *j, const char *key, uint64_t v)
{
	json_key(j, key);
	fprintf(j->f, "%llu", (unsigned long long)v);
}

static void json_bool(struct json *j, const char *key, bool v)
{
	json_key(j, key);
	fputs(v ? "true" : "false", j->f);
}

static void json_f64(struct json *j, const char *key, double v, int prec)
{
	json_key(j, key);
	fprintf(j->f, "%.*f", prec, v);
}

/* Only our own fixed strings and strerror() text, but quote safely anyway. */
static void json_str(struct json *j, const char *key, const char *v)
{
	json_key(j, key);
	fputc('"', j->f);
	for (; *v; v++) {
		if (*v == '"' || *v == '\\')
			fprintf(j->f, "\\%c", *v);
		else if ((unsigned char)*v < 0x20)
			fprintf(j->f, "\\u%04x", *v);
		else
			fputc(*v, j->f);
	}
	fputc('"', j->f);
}

static double per_second(uint64_t n, double seconds)
{
	return seconds > 0 ? (double)n / seconds : 0;
}

static void json_mode(struct json *j, const struct perf_opts *o,
		      const struct perf_summary *s, const struct hist *h)
{
	switch (o->mode) {
	case PERF_TCP_STREAM:
		json_bool(j, "reverse", o->reverse);
		json_u64(j, "bytes", s->bytes);
		json_u64(j, "sent", s->sent);
		json_f64(j, "gbps", per_second(s->bytes, s->seconds) * 8 / 1e9, 3);
		break;
	case PERF_UDP_STREAM:
		json_u64(j, "sent", s->sent);
		json_u64(j, "received", s->count);
		json_u64(j, "bytes", s->bytes);
		json_f64(j, "pps", per_second(s->count, s->seconds), 0);
		break;
	case PERF_TCP_RR:
		json_u64(j, "transactions", s->count);
		json_f64(j, "tps", per_second(s->count, s->seconds), 0);
		json_f64(j, "p50_us", hist_quantile_ns(h, 0.50) / 1e3, 2);
		json_f64(j, "p99_us", hist_quantile_ns(h, 0.99) / 1e3, 2);
		json_f64(j, "p999_us", hist_quantile_ns(h, 0.999) / 1e3, 2);
		break;
	case PERF_TCP_CRR:
		json_u64(j, "connections", s->count);
		json_f64(j, "cps", per_second(s->count, s->seconds), 0);
		break;
	}
}

static void report_json(const struct perf_opts *o, const struct perf_summary *s,
			const struct hist *h)
{
	struct json j = { stdout, true };

	json_str(&j, "mode", perf_mode_name(o->mode));
	json_f64(&j, "seconds", s->seconds, 3);
	json_u64(&j, "conns", o->mode == PERF_UDP_STREAM ? 1 : o->conns);
	json_u64(&j, "size", o->size);
	json_mode(&j, o, s, h);
	json_u64(&j, "errors", s->errors);
	if (s->fatal)
		json_str(&j, "error", s->fatal);
	fputs("}\n", stdout);
}

static void report_human(const struct perf_opts *o, const struct perf_summary *s,
			 const struct hist *h)
{
	printf("%s: %u conn%s, size %u, %.3f s: ", perf_mode_name(o->mode),
	       o->mode == PERF_UDP_STREAM ? 1 : o->conns, o->conns > 1 ? "s" : "",
	       o->size, s->seconds);
	switch (o->mode) {
	case PERF_TCP_STREAM:
		printf("%llu bytes verified%s, %.3f Gbit/s",
		       (unsigned long long)s->bytes, o->reverse ? " (reverse)" : "",
		       per_second(s->bytes, s->seconds) * 8 / 1e9);
		break;
	case PERF_UDP_STREAM:
		printf("%llu datagrams sent, %llu verified, %.0f pps",
		       (unsigned long long)s->sent, (unsigned long long)s->count,
		       per_second(s->count, s->seconds));
		break;
	case PERF_TCP_RR:
		printf("%llu transactions, %.0f/s, p50 %.2f us, p99 %.2f us, p99.9 %.2f us",
		       (unsigned long long)s->count, per_second(s->count, s->seconds),
		       hist_quantile_ns(h, 0.50) / 1e3, hist_quantile_ns(h, 0.99) / 1e3,
		       hist_quantile_ns(h, 0.999) / 1e3);
		break;
	case PERF_TCP_CRR:
		printf("%llu connections, %.0f/s", (unsigned long long)s->count,
		       per_second(s->count, s->seconds));
		break;
	}
	printf(", %llu errors\n", (unsigned long long)s->errors);
}

void perf_report(const struct perf_opts *o, const struct perf_summary *s,
		 const struct hist *h)
{
	if (s->fatal)
		fprintf(stderr, PROG ": %s\n", s->fatal);
	if (o->json)
		report_json(o, s, h);
	else if (!s->fatal)
		report_human(o, s, h);
	fflush(stdout);
}
