/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ipsec/xfrm_apply.c: `ip xfrm` commands on a SAD and an SPD of their
 * own (no stack): add and its duplicate, update keeping what the SA lived
 * through, delete and get by ID, deleteall/list filters, flush (socket
 * policies untouched), the reasons given, and listings without keys.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include <unistd.h>

#include "../../ipsec/xfrm_apply.h"
#include "../../ipsec/sn_ipsec_api.h"

#define K20 "0x000102030405060708090a0b0c0d0e0f10111213"
#define GCM " aead 'rfc4106(gcm(aes))' " K20 " 128"
#define SA_A "state add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x1000 reqid 1" GCM
#define SA_B "state add src 10.0.0.2 dst 10.0.0.1 proto esp spi 0x2000 reqid 2" GCM
#define SA_AH "state add src 10.0.0.1 dst 10.0.0.2 proto ah spi 0x3000 auth sha1 " K20
#define POL_OUT "policy add src 10.0.0.1/32 dst 10.0.0.2/32 dir out tmpl proto esp reqid 1"
#define POL_IN "policy add src 10.0.0.2/32 dst 10.0.0.1/32 dir in tmpl proto esp reqid 2"

static struct sn_xfrm_db db;
static char why[256];
static char *outbuf;
static size_t outlen;

static void setup(void)
{
	struct sn_spd_conf sc = { .max_policies = 16 };

	memset(&db, 0, sizeof(db));
	cr_assert_eq(sn_sad_create(&db.sad, 8, NULL), 0);
	cr_assert_eq(sn_spd_create(&db.spd, &sc), 0);
	db.now = 1000;
	db.out = open_memstream(&outbuf, &outlen);
	cr_assert_not_null(db.out);
}

static void teardown(void)
{
	fclose(db.out);
	free(outbuf);
	sn_spd_free(db.spd);
	sn_sad_free(db.sad);
}

TestSuite(xfrm_apply, .init = setup, .fini = teardown);

/* Apply one line: the result, with the reason in why. */
static int run(const char *line)
{
	struct sn_xfrm_entry e;
	int rc = sn_xfrm_parse_line(line, &e, why, sizeof(why));

	cr_assert_eq(rc, 0, "%s: %s", line, why);
	rc = sn_xfrm_apply(&db, &e, why, sizeof(why));
	explicit_bzero(&e, sizeof(e));
	return rc;
}

static void ok(const char *line)
{
	int rc = run(line);

	cr_assert_eq(rc, 0, "%s: %d %s", line, rc, why);
}

/* What the last get/list printed (and forget it). */
static const char *printed(void)
{
	static char copy[8192];

	fflush(db.out);
	snprintf(copy, sizeof(copy), "%.*s", (int)outlen, outbuf ? outbuf : "");
	rewind(db.out);
	outlen = 0;
	if (outbuf)
		outbuf[0] = '\0';
	return copy;
}

static int count_of(const char *text, const char *word)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, word)); p += strlen(word))
		n++;
	return n;
}

static struct sn_sa *sa_at(uint32_t spi, const char *dst, uint8_t proto)
{
	struct sn_ip d = { .family = AF_INET };

	cr_assert_eq(inet_pton(AF_INET, dst, d.addr), 1);
	return sn_sad_lookup(db.sad, spi, &d, proto);
}

Test(xfrm_apply, add_duplicate_says_which_sa)
{
	ok(SA_A);
	cr_expect_eq(run(SA_A), -EEXIST);
	cr_expect_str_eq(why, "state add: an SA with spi 0x00001000 dst 10.0.0.2 proto esp exists "
			 "(state update replaces it)");
	ok(POL_OUT);
	cr_expect_eq(run(POL_OUT), -EEXIST);
	cr_expect(strstr(why, "policy add: a policy src 10.0.0.1/32 dst 10.0.0.2/32") != NULL,
		  "%s", why);
	cr_expect_eq(db.changed, 2);
}

Test(xfrm_apply, update_replaces_and_keeps_sequence_numbers)
{
	struct sn_sa *old, *sa;
	struct sn_sa_ref ref;
	uint64_t seq;

	cr_expect_eq(run("state update src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x1000" GCM), -ENOENT);
	cr_expect(strstr(why, "state update: no SA with spi 0x00001000") != NULL, "%s", why);
	ok(SA_A);
	old = sa_at(0x1000, "10.0.0.2", SN_IPPROTO_ESP);
	ref = sn_sa_ref(old);
	for (int i = 0; i < 5; i++)
		cr_assert_eq(sn_sa_next_seq(old, &seq), 0);
	old->ctr[SN_IC_OUT_PACKETS] = 5;
	ok("state update src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x1000 reqid 9" GCM
	   " limit time-hard 60");
	sa = sa_at(0x1000, "10.0.0.2", SN_IPPROTO_ESP);
	cr_assert_not_null(sa);
	cr_expect_null(sn_sad_get(db.sad, ref), "the old reference is stale: users choose again");
	cr_expect_eq(sa->conf.reqid, 9);
	cr_expect_eq(sa->life.lim.hard_add_s, 60);
	cr_expect_eq(sa->seq_out, 5, "the peer has seen 1-5: never sent again");
	cr_expect_eq(sa->ctr[SN_IC_OUT_PACKETS], 5);
	cr_expect_eq(sn_sad_count(db.sad), 1);
	cr_expect_eq(db.sas_added, 2);
}

Test(xfrm_apply, delete_and_get_by_id)
{
	const char *text;

	ok(SA_A);
	ok(SA_B);
	cr_expect_eq(run("state delete src 10.0.0.9 dst 10.0.0.2 proto esp spi 0x1000"), -ENOENT,
		     "src given: must match too");
	cr_expect_str_eq(why, "state delete: no SA with spi 0x00001000 dst 10.0.0.2 proto esp");
	cr_expect_eq(run("state get dst 10.0.0.2 proto ah spi 0x1000"), -ENOENT);
	ok("state get dst 10.0.0.2 proto esp spi 0x1000");
	text = printed();
	cr_expect(strstr(text, "src 10.0.0.1 dst 10.0.0.2\n\tproto esp spi 0x00001000 reqid 1 "
			 "mode transport\n") != NULL, "%s", text);
	cr_expect(strstr(text, "aead rfc4106(gcm(aes)) [160-bit key] 128") != NULL, "%s", text);
	cr_expect(strstr(text, "0001020304") == NULL, "no key in a listing: %s", text);
	ok("state delete src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x1000");
	cr_expect_null(sa_at(0x1000, "10.0.0.2", SN_IPPROTO_ESP));
	cr_expect_not_null(sa_at(0x2000, "10.0.0.1", SN_IPPROTO_ESP));
	cr_expect_eq(run("state delete dst 10.0.0.2 proto esp spi 0x1000"), -ENOENT);
}

Test(xfrm_apply, list_deleteall_and_flush_filter)
{
	ok(SA_A);
	ok(SA_B);
	ok(SA_AH);
	ok("state list");
	cr_expect_eq(count_of(printed(), "\tproto "), 3);
	ok("state list src 10.0.0.1");
	cr_expect_eq(count_of(printed(), "\tproto "), 2);
	ok("state list reqid 2");
	cr_expect(strstr(printed(), "spi 0x00002000") != NULL);
	ok("state flush proto ah");
	cr_expect_eq(sn_sad_count(db.sad), 2);
	ok("state deleteall dst 10.0.0.1");
	cr_expect_eq(sn_sad_count(db.sad), 1);
	cr_expect_not_null(sa_at(0x1000, "10.0.0.2", SN_IPPROTO_ESP));
	ok("state flush");
	cr_expect_eq(sn_sad_count(db.sad), 0);
	ok("state flush");
	ok("state list");
	cr_expect_str_eq(printed(), "");
}

Test(xfrm_apply, policies_by_selector_index_and_flush)
{
	struct sn_pol_conf sock = { 0 };
	struct sn_policy *own;
	const char *text;
	unsigned idx;

	ok(POL_OUT);
	ok(POL_IN);
	ok("policy add src 10.0.0.0/8 dst 10.0.0.0/8 proto udp dport 53 dir out priority 5");
	ok("policy list dir out");
	text = printed();
	cr_expect_eq(count_of(text, "\tdir out"), 2, "%s", text);
	cr_expect(strstr(text, "src 10.0.0.1/32 dst 10.0.0.2/32\n\tdir out priority 0 ptype main "
			 "index ") != NULL, "%s", text);
	cr_expect(strstr(text, "\ttmpl src 0.0.0.0 dst 0.0.0.0\n\t\tproto esp spi 0x00000000 "
			 "reqid 1 mode transport\n") != NULL, "%s", text);
	cr_expect_eq(run("policy delete src 10.0.0.1/32 dst 10.0.0.2/32 dir in"), -ENOENT);
	cr_expect(strstr(why, "policy delete: no policy src 10.0.0.1/32 dst 10.0.0.2/32 proto 0 "
			 "dir in") != NULL, "%s", why);
	cr_expect_eq(run("policy delete src 10.0.0.1/32 dst 10.0.0.2/32 proto udp dir out"),
		     -ENOENT, "the selector must be the whole one");
	ok("policy delete src 10.0.0.1/32 dst 10.0.0.2/32 dir out");
	cr_expect_eq(sn_spd_count(db.spd, SN_DIR_OUT), 1);
	ok("policy get src 10.0.0.2/32 dst 10.0.0.1/32 dir in");
	text = printed();
	cr_assert(sscanf(strstr(text, "index "), "index %u", &idx) == 1, "%s", text);
	ok("policy update src 10.0.0.2/32 dst 10.0.0.1/32 dir in priority 7");
	ok("policy update src 10.0.0.2/32 dst 10.0.0.3/32 dir in");
	cr_expect_eq(sn_spd_count(db.spd, SN_DIR_IN), 2, "update adds a missing policy (as the kernel)");
	ok("policy list priority 7");
	cr_expect_eq(count_of(printed(), "\tdir in priority 7"), 1);
	char line[64];

	snprintf(line, sizeof(line), "policy get index %u", idx);
	cr_expect_eq(run(line), -ENOENT, "update replaced the policy: a new index");

	/* A socket's own policy is the socket's: flush leaves it. */
	sock.sel.src.family = sock.sel.dst.family = AF_INET;
	sock.dir = SN_DIR_OUT;
	sock.action = SN_POL_BYPASS;
	sock.socket_tier = true;
	cr_assert_eq(sn_spd_add(db.spd, &sock, &own), 0);
	own->owner = (struct sn_sockpol *)&sock;
	ok("policy deleteall dir out");
	cr_expect_eq(sn_spd_count(db.spd, SN_DIR_OUT), 1);
	ok("policy flush");
	cr_expect_eq(sn_spd_count(db.spd, SN_DIR_IN), 0);
	cr_expect_eq(sn_spd_count(db.spd, SN_DIR_OUT), 1, "the socket's policy stays");
	own->owner = NULL;
}

Test(xfrm_apply, install_hook_reason_and_full_sad)
{
	char text[] = "the backend says no";

	ok(SA_A);
	db.install_why = text;
	cr_expect_eq(run(SA_A), -EEXIST);
	db.install_why = NULL;
	for (int i = 1; i < 8; i++) {
		char line[300];

		snprintf(line, sizeof(line), "state add src 10.0.0.1 dst 10.0.0.2 proto esp spi %d%s",
			 0x4000 + i, GCM);
		ok(line);
	}
	cr_expect_eq(run(SA_B), -ENOSPC);
	cr_expect_str_eq(why, "state add: no room for another SA (8 installed)");
	cr_expect_eq(run("state update src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x1000" GCM),
		     -ENOSPC, "update needs a free slot for the swap");
	cr_expect_not_null(sa_at(0x1000, "10.0.0.2", SN_IPPROTO_ESP), "the old SA stays");
}

/* A file is checked before start by applying it to scratch tables: a line
 * that parses but would not install is refused as a parse error is, with
 * FILE:LINE: why (it was "line 3: not installed: File exists"). */
Test(xfrm_apply, check_file_refuses_what_would_not_install)
{
	char path[] = "/tmp/sn-xfrm-check-XXXXXX", err[SN_IPSEC_ERR_MAX], want[400];
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	cr_assert_not_null(f);
	fprintf(f, "# two SAs, the second twice\n%s\n%s\n%s\n", SA_A, SA_B, SA_B);
	fclose(f);
	cr_expect_eq(sn_ipsec_check_file(path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:4: state add: an SA with spi 0x00002000 dst 10.0.0.1 "
		 "proto esp exists (state update replaces it)", path);
	cr_expect_str_eq(err, want);

	f = fopen(path, "w");
	fprintf(f, "%s\n%s\n%s\nstate delete dst 10.0.0.2 proto esp spi 0x1000\n%s\n%s\n",
		SA_A, POL_OUT, POL_IN, SA_A, POL_IN);
	fclose(f);
	cr_expect_eq(sn_ipsec_check_file(path, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:6: policy add: a policy src 10.0.0.2/32 dst 10.0.0.1/32 "
		 "proto 0 dir in exists (policy update replaces it)", path);
	cr_expect_str_eq(err, want, "delete then add again is fine; the policy twice is not");

	f = fopen(path, "w");
	fprintf(f, "%s\nstate add src 10.0.0.1 dst 10.0.0.2 proto esp spi 7 replay-window 0%s\n",
		SA_A, GCM);
	fclose(f);
	cr_expect_eq(sn_ipsec_check_file(path, err, sizeof(err)), 0, "%s", err);
	unlink(path);
}
