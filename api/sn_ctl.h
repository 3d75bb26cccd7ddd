/* SPDX-License-Identifier: BSD-3-Clause */
/* The control channel snctl talks to (api/ctl.c). Internal. */
#ifndef SN_CTL_H
#define SN_CTL_H

#include <stdint.h>
#include <stdio.h>

/* A command handler: argv[0] is the command word. Writes its answer to
 * out; returns 0 (the channel adds "ok") or -1 after writing "error: ...". */
typedef int (*sn_ctl_fn)(FILE *out, int argc, char **argv, void *ctx);

int sn_ctl_open(const char *prog);
void sn_ctl_close(void);
void sn_ctl_poll(void);
const char *sn_ctl_path(void);
/* Start a capture on the running port (api/stack_ctl.c): 0, or -1 with err. */
int sn_stack_capture_start(const char *path, uint32_t max_mb, char *err, size_t errlen);
int sn_ctl_register(const char *word, sn_ctl_fn fn, void *ctx, const char *help);

#endif
