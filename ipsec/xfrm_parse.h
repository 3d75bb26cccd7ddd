/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Manual SAs and policies in the grammar of Linux's `ip xfrm`, so that a
 * line that works after `ip xfrm` works here (the subset sealnet runs).
 *
 *   [ip xfrm] state add|update src ADDR dst ADDR proto esp|ah spi SPI
 *       [mode transport|tunnel] [reqid N] [replay-window N] [flag esn|af-unspec]
 *       [aead ALG KEY ICVBITS | enc ALG KEY [auth ALG KEY | auth-trunc ALG KEY BITS]]
 *       [encap espinudp SPORT DPORT OADDR]
 *       [sel [src PREFIX] [dst PREFIX] [proto P [sport N] [dport N]]]
 *       [limit LIMIT [LIMIT...]]...
 *   [ip xfrm] state delete|get [src ADDR] dst ADDR proto esp|ah spi SPI
 *   [ip xfrm] state deleteall|list [src ADDR] [dst ADDR] [proto esp|ah] [spi SPI]
 *       [mode transport|tunnel] [reqid N]
 *   [ip xfrm] state flush [proto esp|ah]
 *   [ip xfrm] policy add|update [src PREFIX] [dst PREFIX] [proto P [sport N] [dport N]]
 *       dir in|out|fwd [priority N] [action allow|block] [ptype main]
 *       [tmpl [src ADDR] [dst ADDR] proto esp|ah [spi N] [reqid N]
 *             [mode transport|tunnel] [level required|use]]
 *   [ip xfrm] policy delete|get SELECTOR dir DIR | index N [dir DIR]
 *   [ip xfrm] policy deleteall|list [SELECTOR] [dir DIR] [index N] [priority N]
 *       [action allow|block] [ptype main]
 *   [ip xfrm] policy flush [ptype main]
 *
 * (show is list's other name, as in ip.) delete, get and the filters of
 * list/deleteall compare only what the line gives (entry.match); a policy
 * SELECTOR given to delete/get must equal the policy's whole selector.
 *
 * Words are split as a shell would (single and double quotes, backslash
 * escapes, `#` starts a comment). The parser is pure: a line in, a struct
 * out, nothing else touched; keys copied out of the line are wiped from
 * the parser's own buffers before it returns.
 */
#ifndef SN_XFRM_PARSE_H
#define SN_XFRM_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sn_ipsec.h"

#ifndef SN_MUST_CHECK
#define SN_MUST_CHECK __attribute__((warn_unused_result))
#endif

#define SN_XFRM_LINE_MAX  4096          /* bytes in one line, NUL included */
#define SN_XFRM_WORDS_MAX 128           /* words in one line */
#define SN_XFRM_ERR_MIN   64            /* a useful error buffer */

enum sn_xfrm_kind {
	SN_XFRM_EMPTY = 0,              /* blank line or comment: nothing to do */
	SN_XFRM_SA,                     /* state ... */
	SN_XFRM_POLICY,                 /* policy ... */
};

enum sn_xfrm_op {
	SN_XFRM_ADD = 0,
	SN_XFRM_UPDATE,                 /* replace: an SA must exist (ENOENT); a policy is added if not */
	SN_XFRM_DELETE,                 /* exactly one (ENOENT if none) */
	SN_XFRM_GET,                    /* print exactly one */
	SN_XFRM_DELETEALL,              /* every one the filter matches */
	SN_XFRM_LIST,                   /* print every one the filter matches */
	SN_XFRM_FLUSH,                  /* every one (state: of proto, if given) */
};

/* What delete, get, deleteall, list and flush compare (entry.match). */
#define SN_XFRM_M_SRC    0x001          /* sa.src / pol.sel.src (and its prefix) */
#define SN_XFRM_M_DST    0x002
#define SN_XFRM_M_PROTO  0x004          /* sa.proto / pol.sel.proto */
#define SN_XFRM_M_SPI    0x008
#define SN_XFRM_M_MODE   0x010
#define SN_XFRM_M_REQID  0x020
#define SN_XFRM_M_SPORT  0x040          /* pol.sel.sport */
#define SN_XFRM_M_DPORT  0x080
#define SN_XFRM_M_DIR    0x100          /* pol.dir */
#define SN_XFRM_M_INDEX  0x200          /* entry.index: the policy's id */
#define SN_XFRM_M_PRIO   0x400
#define SN_XFRM_M_ACTION 0x800          /* pol.action */

/* Accepted, but worth a line to the user (sn_xfrm_warning). */
#define SN_XFRM_WARN_NO_REPLAY     0x1  /* replay-window 0: anti-replay off */
#define SN_XFRM_WARN_SPI_RESERVED  0x2  /* spi 1-255 (RFC 4303 2.1) */

struct sn_xfrm_entry {
	enum sn_xfrm_kind kind;
	enum sn_xfrm_op op;
	unsigned warn;                  /* SN_XFRM_WARN_* */
	uint32_t match;                 /* SN_XFRM_M_*, for the ops that select */
	uint32_t index;                 /* policy index (SN_XFRM_M_INDEX) */
	union {
		struct sn_sa_conf sa;
		struct sn_pol_conf pol;
	};
};

/* Parse one line (no line number in the message). Returns 0 and fills
 * *out (kind SN_XFRM_EMPTY for a blank line or a comment), or -EINVAL with
 * "WORD VALUE: why" in err. On error *out is zeroed: no key survives. */
SN_MUST_CHECK int sn_xfrm_parse_line(const char *line, struct sn_xfrm_entry *out,
				     char *err, size_t errlen);

/* The sentence for one SN_XFRM_WARN_* bit ("" for an unknown one). */
const char *sn_xfrm_warning(unsigned bit);

/* Called per entry by sn_xfrm_parse_file; a negative return stops the load
 * and is returned, with the reason the callback wrote in why (or, if it
 * wrote none, the errno's text). The entry is wiped after the call: copy
 * what you keep. */
typedef int (*sn_xfrm_entry_fn)(const struct sn_xfrm_entry *e, unsigned line,
				void *ctx, char *why, size_t whylen);

/* Every line of f; the first bad line stops the load with "NAME:N: why"
 * in err ("line N: why" when name is NULL), whether the line did not
 * parse or fn refused it. Returns the number of entries handed to fn, or
 * a negative errno. */
SN_MUST_CHECK int sn_xfrm_parse_file(FILE *f, const char *name, sn_xfrm_entry_fn fn,
				     void *ctx, char *err, size_t errlen);

#endif
