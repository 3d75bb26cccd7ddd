/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Criterion checks shared by the unit tests of the public API (not by the
 * harness, which the fuzzer links too).
 */
#ifndef H_CHECKS_H
#define H_CHECKS_H

#include <errno.h>
#include <string.h>

#include <criterion/criterion.h>

/* A call that must fail with -1 and errno e. */
#define ERRNO_IS(call, e) do {                                                      \
	errno = 0;                                                                  \
	long rc_ = (long)(call);                                                    \
	cr_expect_eq(rc_, -1, "%s: returned %ld, expected -1/%s", #call, rc_, #e);   \
	cr_expect_eq(errno, e, "%s: errno %d (%s), expected %s", #call, errno,       \
		     strerror(errno), #e);                                          \
} while (0)

/* A call that must return 0. */
#define OK(call) do {                                                               \
	errno = 0;                                                                  \
	long rc_ = (long)(call);                                                    \
	cr_assert_eq(rc_, 0, "%s: returned %ld, errno %s", #call, rc_,               \
		     strerror(errno));                                              \
} while (0)

#endif
