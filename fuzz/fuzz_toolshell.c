/* fuzz_toolshell.c - libFuzzer target for the toolshell check's parsers:
 * the bodies of buildversion.cnf, service.cnf, _vti_inf.html, start.aspx
 * and web-shell paths, and the version headers, all server-controlled. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "detect/detect.h"
#include "lib/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct detect_module *m = detect_find("toolshell");
	void *st = calloc(1, m->state_size);
	struct detect_options opt = {.assume_breach = size > 0 && (data[0] & 1)};
	m->init(st, &opt);
	/* the header value is the input up to the first NUL (or all of it) */
	size_t hlen = strnlen((const char *)data, size);
	char *hval = malloc(hlen + 1);
	memcpy(hval, data, hlen);
	hval[hlen] = '\0';
	struct http_header h = {.name = (char *)(uintptr_t)"MicrosoftSharePointTeamServices", .value = hval};
	struct http_response r;
	memset(&r, 0, sizeof(r));
	r.status = 200;
	r.headers = &h;
	r.nheaders = 1;
	uint8_t *body = malloc(size ? size : 1);
	memcpy(body, data, size);
	r.body = body;
	r.body_len = size;
	m->on_root(st, &r);
	struct detect_request req;
	for (int i = 0; i < 16 && m->next(st, &req); i++)
		m->on_response(st, &req, &r);
	struct service_record rec;
	record_init(&rec, 1, 80, 0);
	m->finish(st, &rec);
	struct strbuf sb;
	strbuf_init(&sb);
	record_to_json(&rec, &sb);
	strbuf_free(&sb);
	record_free(&rec);
	m->cleanup(st);
	free(st);
	free(body);
	free(hval);
	return 0;
}
