/* fuzz_http.c - libFuzzer target for the HTTP response parser. The first
 * input byte picks the options (HEAD, small limits) and where the rest is
 * cut into two or three feeds; the result must match a one-byte-at-a-time
 * parse, and the limits must hold. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strbuf.h"
#include "probe/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct http_parser *p, int rc, struct strbuf *sb)
{
	const struct http_response *r = &p->resp;
	if (r->body_len > p->lim.max_body || r->nheaders > p->lim.max_headers)
		abort();
	if (r->body_len && !r->body)
		abort();
	if (rc == HTTP_DONE && (r->status < 100 || r->status > 999 || !r->reason))
		abort();
	if (rc == HTTP_ERROR && p->error[0] == '\0')
		abort();
	strbuf_reset(sb);
	strbuf_printf(sb, "%d %s %d %d %d %d %d %lld|", rc, rc == HTTP_ERROR ? p->error : "", r->version_minor,
		      r->status, r->chunked, r->body_truncated, r->headers_truncated, (long long)r->content_length);
	if (r->reason)
		strbuf_adds(sb, r->reason);
	for (size_t i = 0; i < r->nheaders; i++) {
		if (r->headers[i].name[0] == '\0')
			abort();
		strbuf_printf(sb, "|%s:%s", r->headers[i].name, r->headers[i].value);
	}
	strbuf_adds(sb, "|");
	strbuf_add(sb, r->body, r->body_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t ctl = data[0];
	data++;
	size--;
	struct http_limits small = {.max_header_bytes = 256, .max_headers = 4, .max_body = 64};
	const struct http_limits *lim = (ctl & 0x80) ? &small : NULL;
	bool head = ctl & 0x40;
	size_t cut1 = size ? (ctl & 0x3f) * size / 63 : 0;
	size_t cut2 = cut1 + (size - cut1) / 2;

	struct strbuf a, b;
	strbuf_init(&a);
	strbuf_init(&b);

	struct http_parser p;
	http_parser_init(&p, lim, head);
	int rc = http_parser_feed(&p, data, cut1);
	if (ctl & 1) {
		rc = http_parser_feed(&p, data + cut1, cut2 - cut1);
		rc = http_parser_feed(&p, data + cut2, size - cut2);
	} else {
		rc = http_parser_feed(&p, data + cut1, size - cut1);
	}
	if (rc == HTTP_AGAIN && !(ctl & 2))
		rc = http_parser_eof(&p);
	check(&p, rc, &a);
	http_parser_free(&p);

	http_parser_init(&p, lim, head);
	rc = HTTP_AGAIN;
	for (size_t i = 0; i < size; i++)
		rc = http_parser_feed(&p, data + i, 1);
	if (rc == HTTP_AGAIN && !(ctl & 2))
		rc = http_parser_eof(&p);
	check(&p, rc, &b);
	http_parser_free(&p);

	if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
		abort();  /* the split changed the result */
	strbuf_free(&a);
	strbuf_free(&b);
	return 0;
}
