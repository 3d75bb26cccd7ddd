/* SPDX-License-Identifier: BSD-3-Clause */
#include "sn_counters.h"

uint64_t sn_counters[SN_C_MAX];

const struct sn_counter_desc sn_counter_descs[SN_C_MAX] = {
#define SN_X(id, name, desc) [SN_C_##id] = { name, desc },
	SN_COUNTER_LIST(SN_X)
#undef SN_X
};
