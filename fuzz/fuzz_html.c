/* fuzz_html.c - libFuzzer target for the HTML title and generator
 * extraction: bounded output, whitespace collapsed and trimmed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "probe/html.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_text(const char *t, size_t max)
{
	size_t n = strlen(t);
	if (n > max)
		abort();
	if (n && (t[0] == ' ' || t[n - 1] == ' '))
		abort();
	if (strstr(t, "  "))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *t = html_title(data, size);
	if (t) {
		check_text(t, HTML_TITLE_MAX);
		free(t);
	}
	char out[40];
	memset(out, 'X', sizeof(out));
	size_t outlen = size ? 1 + data[0] % sizeof(out) : sizeof(out);
	bool found = html_meta_generator(data, size, out, outlen);
	if (memchr(out, '\0', outlen) == NULL)
		abort();
	check_text(out, outlen - 1);
	if (!found && out[0] != '\0')
		abort();
	return 0;
}
