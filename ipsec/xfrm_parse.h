/*
 * Manual SAs and policies in the grammar of Linux's `ip xfrm`, so that a
 * line that works after `ip xfrm` works here (the subset sealnet runs).
 *
 *   [ip xfrm] state add src ADDR dst ADDR proto esp|ah spi SPI
 *       [mode transport|tunnel] [reqid N] [replay-window N] [flag esn]
 *       [aead ALG KEY ICVBITS | enc ALG KEY [auth ALG KEY | auth-trunc ALG KEY BITS]]
 *       [encap espinudp SPORT DPORT OADDR]
 *       [sel [src PREFIX] [dst PREFIX] [proto P [sport N] [dport N]]]
 *       [limit LIMIT [LIMIT...]]...
 *   [ip xfrm] policy add [src PREFIX] [dst PREFIX] [proto P [sport N] [dport N]]
 *       dir in|out|fwd [priority N] [action allow|block] [ptype main]
 *       [tmpl [src ADDR] [dst ADDR] proto esp|ah [spi N] [reqid N]
 *             [mode transport|tunnel] [level required|use]]
 *
 * Words are split as a shell would (single and double quotes, backslash
 * escapes, `#` starts a comment). The parser is pure: a line in, a struct
 * out, nothing else touched; keys copied out of the line are wiped from
 * the parser's own buffers before it returns.
 */
#ifndef SN_XFRM_PARSE_H
#define SN_XFRM_PARSE_H

#include <stddef.h>
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
	SN_XFRM_SA,                     /* state add */
	SN_XFRM_POLICY,                 /* policy add */
};

/* Accepted, but worth a line to the user (sn_xfrm_warning). */
#define SN_XFRM_WARN_NO_REPLAY     0x1  /* replay-window 0: anti-replay off */
#define SN_XFRM_WARN_SPI_RESERVED  0x2  /* spi 1-255 (RFC 4303 2.1) */

struct sn_xfrm_entry {
	enum sn_xfrm_kind kind;
	unsigned warn;                  /* SN_XFRM_WARN_* */
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
 * and is returned. The entry is wiped after the call: copy what you keep. */
typedef int (*sn_xfrm_entry_fn)(const struct sn_xfrm_entry *e, unsigned line,
				void *ctx);

/* Every line of f; the first bad line stops the load with "line N: ..." in
 * err. Returns the number of entries handed to fn, or a negative errno. */
SN_MUST_CHECK int sn_xfrm_parse_file(FILE *f, sn_xfrm_entry_fn fn, void *ctx,
				     char *err, size_t errlen);

#endif
