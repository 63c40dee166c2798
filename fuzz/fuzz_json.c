/* fuzz_json.c - libFuzzer target for the JSON string escaper: whatever
 * bytes a server sends, the output is one valid JSON string (checked here
 * with a small strict validator). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_json_string(const unsigned char *s, size_t n)
{
	if (n < 2 || s[0] != '"' || s[n - 1] != '"')
		abort();
	for (size_t i = 1; i + 1 < n; i++) {
		if (s[i] < 0x20)
			abort();
		if (s[i] == '"')
			abort();
		if (s[i] == '\\') {
			i++;
			if (i + 1 >= n)
				abort();
			if (s[i] == 'u') {
				if (i + 4 >= n)
					abort();
				i += 4;
			} else if (!strchr("\"\\/bfnrt", s[i])) {
				abort();
			}
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf sb;
	strbuf_init(&sb);
	strbuf_json_str(&sb, data, size);
	check_json_string((const unsigned char *)sb.data, sb.len);
	strbuf_free(&sb);
	return 0;
}
