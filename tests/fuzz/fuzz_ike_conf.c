/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer: bytes into ike_conf_parse on a fresh conf (the parser is pure). */
#include <stddef.h>
#include <stdint.h>

#include "../../ipsec/ike/ike_conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ike_conf *c = ike_conf_new();
	char err[256];

	if (!c)
		return 0;
	if (ike_conf_parse(c, (const char *)data, size, "fuzz", err, sizeof(err)) == 0)
		(void)ike_conf_find_secret(c, IKE_SECRET_IKE, "a", "b");
	ike_conf_free(c);
	return 0;
}
