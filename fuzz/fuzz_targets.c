/* fuzz_targets.c - libFuzzer target for the target-list and port-list
 * parsers (command line, -iL files, --exclude). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scan/ports.h"
#include "scan/targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	char err[TARGETS_ERR_LEN];
	struct rangeset rs, ex;
	rangeset_init(&rs);
	rangeset_init(&ex);
	if (targets_parse_text(text, "fuzz", &rs, err, sizeof(err)) == 0) {
		rangeset_normalize(&rs);
		targets_add_reserved(&ex);
		rangeset_subtract(&rs, &ex);
		if (rs.total > 0) {
			uint32_t a = rangeset_pick(&rs, rs.total - 1);
			if (!rangeset_contains(&rs, a))
				abort();
		}
	}
	rangeset_free(&rs);
	rangeset_free(&ex);
	struct portset ps = {0};
	if (ports_parse(text, &ps, err, sizeof(err)) == 0)
		for (uint32_t i = 1; i < ps.n; i++)
			if (ps.ports[i] <= ps.ports[i - 1] || ps.ports[0] == 0)
				abort();
	ports_free(&ps);
	free(text);
	return 0;
}
