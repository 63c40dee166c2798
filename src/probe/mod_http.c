/* mod_http.c - the HTTP probe: GET /, then /favicon.ico, then whatever the
 * check modules ask for (GET only), over one keep-alive connection when the
 * server allows it. Records status, title, headers (names and order as
 * sent), Location, body SHA-256 and length, and the favicon hash. A
 * request marked sensitive (a possible web shell) leaves no trace: its body
 * is handed to the check and wiped. */
#include <arpa/inet.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/alloc.h"
#include "probe/favicon.h"
#include "probe/html.h"
#include "probe/probe_int.h"

#define HTTP_MAX_REQUESTS 24
#define HTTP_USER_AGENT "Mozilla/5.0 (compatible; vigil/0.1; non-intrusive exposure scan)"

enum { PHASE_ROOT, PHASE_FAVICON, PHASE_CHECKS, PHASE_DONE };

static void http_init_checks(struct probe_session *s)
{
	const struct probe_config *cfg = probe_session_config(s);
	struct probe_http_state *st = &s->http;
	for (int i = 0; i < cfg->nchecks; i++) {
		if (st->check_state[i])
			continue;
		st->check_state[i] = xcalloc(1, cfg->checks[i]->state_size ? cfg->checks[i]->state_size : 1);
		cfg->checks[i]->init(st->check_state[i], &cfg->detect);
	}
}

/* Choose the next request into st->req; false when there is none. */
static bool http_next_request(struct probe_session *s)
{
	const struct probe_config *cfg = probe_session_config(s);
	struct probe_http_state *st = &s->http;
	if (st->requests >= HTTP_MAX_REQUESTS)
		return false;
	memset(&st->req, 0, sizeof(st->req));
	st->req_is_check = false;
	for (;;) {
		switch (st->phase) {
		case PHASE_ROOT:
			strcpy(st->req.path, "/");
			return true;
		case PHASE_FAVICON:
			if (cfg->favicon && st->have_root) {
				strcpy(st->req.path, "/favicon.ico");
				return true;
			}
			st->phase = PHASE_CHECKS;
			continue;
		case PHASE_CHECKS:
			if (!st->have_root) {
				st->phase = PHASE_DONE;
				continue;
			}
			while (st->check_idx < cfg->nchecks) {
				int i = st->check_idx;
				if (cfg->checks[i]->next(st->check_state[i], &st->req)) {
					st->req_is_check = true;
					st->req_check = i;
					return true;
				}
				st->check_idx++;
			}
			st->phase = PHASE_DONE;
			continue;
		default:
			return false;
		}
	}
}

static void http_send_request(struct probe_session *s)
{
	const struct probe_config *cfg = probe_session_config(s);
	struct probe_http_state *st = &s->http;
	char host[32], line[1024];
	uint32_t ip = s->rec.ip;
	bool default_port = (s->rec.port == 80 && !s->ssl) || (s->rec.port == 443 && s->ssl);
	if (default_port)
		snprintf(host, sizeof(host), "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
	else
		snprintf(host, sizeof(host), "%u.%u.%u.%u:%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255,
			 s->rec.port);
	int n = snprintf(line, sizeof(line),
			 "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: " HTTP_USER_AGENT
			 "\r\nAccept: */*\r\nConnection: keep-alive\r\n\r\n",
			 st->req.path, host);
	probe_send(s, line, (size_t)n);
	if (st->parser_live)
		http_parser_free(&st->parser);
	struct http_limits lim = {
		.max_header_bytes = cfg->max_header_bytes,
		.max_headers = cfg->max_headers,
		.max_body = cfg->max_body,
	};
	http_parser_init(&st->parser, &lim, false);
	st->parser_live = true;
}

static enum probe_action http_start(struct probe_session *s)
{
	struct probe_http_state *st = &s->http;
	http_init_checks(s);
	st->reused = false;
	if (!st->have_req) {
		if (!http_next_request(s))
			return PROBE_DONE;
		st->have_req = true;
		st->resends = 0;
	}
	http_send_request(s);
	return PROBE_CONTINUE;
}

static bool http_keepalive(const struct http_response *r)
{
	if (r->version_minor < 1 || r->body_truncated)
		return false;
	const char *conn = http_response_header(r, "Connection");
	if (conn && strcasestr(conn, "close"))
		return false;
	bool no_body = r->status == 204 || r->status == 304 || (r->status >= 100 && r->status < 200);
	return no_body || r->chunked || r->content_length >= 0;
}

/* Give a (possibly partial) response to whoever asked for it. */
static void http_deliver(struct probe_session *s, struct http_response *resp)
{
	const struct probe_config *cfg = probe_session_config(s);
	struct probe_http_state *st = &s->http;
	st->saw_http = true;
	if (st->req_is_check) {
		cfg->checks[st->req_check]->on_response(st->check_state[st->req_check], &st->req, resp);
		if (st->req.sensitive && resp && resp->body)
			explicit_bzero(resp->body, resp->body_len);
	} else if (st->phase == PHASE_ROOT) {
		/* keep the root response: take it out of the parser */
		st->root = *resp;
		memset(resp, 0, sizeof(*resp));
		st->have_root = true;
		for (int i = 0; i < cfg->nchecks; i++)
			if (cfg->checks[i]->on_root)
				cfg->checks[i]->on_root(st->check_state[i], &st->root);
		st->phase = PHASE_FAVICON;
	} else if (st->phase == PHASE_FAVICON) {
		if (resp && resp->status == 200 && resp->body_len > 0 && !resp->body_truncated) {
			s->rec.http.have_favicon = true;
			s->rec.http.favicon_hash = favicon_hash(resp->body, resp->body_len);
		}
		st->phase = PHASE_CHECKS;
	}
	st->have_req = false;
	st->requests++;
}

/* The current request failed without a usable response. */
static enum probe_action http_request_failed(struct probe_session *s, const char *why)
{
	const struct probe_config *cfg = probe_session_config(s);
	struct probe_http_state *st = &s->http;
	if (st->phase == PHASE_ROOT && !st->req_is_check) {
		if (!s->rec.error)
			record_set(&s->rec.error, why);
		st->have_req = false;
		return PROBE_DONE;
	}
	if (st->req_is_check)
		cfg->checks[st->req_check]->on_response(st->check_state[st->req_check], &st->req, NULL);
	else if (st->phase == PHASE_FAVICON)
		st->phase = PHASE_CHECKS;
	st->have_req = false;
	st->requests++;
	if (!http_next_request(s))
		return PROBE_DONE;
	st->have_req = true;
	st->resends = 0;
	return PROBE_RECONNECT;
}

/* After a complete response: the next request, on this connection if it
 * can be reused. */
static enum probe_action http_after_response(struct probe_session *s, bool can_reuse)
{
	struct probe_http_state *st = &s->http;
	if (!http_next_request(s))
		return PROBE_DONE;
	st->have_req = true;
	st->resends = 0;
	if (!can_reuse)
		return PROBE_RECONNECT;
	st->reused = true;
	http_send_request(s);
	return PROBE_CONTINUE;
}

static bool looks_like_tls(const uint8_t *d, size_t len)
{
	return len >= 2 && (d[0] == 0x15 || d[0] == 0x16) && d[1] == 0x03;
}

static enum probe_action http_on_data(struct probe_session *s, uint8_t *data, size_t len)
{
	struct probe_http_state *st = &s->http;
	if (!st->parser_live || !st->have_req)
		return PROBE_CONTINUE;  /* bytes after a complete response: ignore */
	bool first_bytes = !st->parser.any_input;
	int rc = http_parser_feed(&st->parser, data, len);
	if (st->req.sensitive)
		explicit_bzero(data, len);
	if (rc == HTTP_DONE) {
		/* bytes after the response (an unasked-for extra response, or
		 * garbage) make the connection unusable for the next request */
		bool reuse = http_keepalive(&st->parser.resp) && st->parser.extra == 0;
		http_deliver(s, &st->parser.resp);
		http_parser_free(&st->parser);
		st->parser_live = false;
		return http_after_response(s, reuse);
	}
	if (rc == HTTP_ERROR) {
		if (first_bytes && !st->saw_http && looks_like_tls(data, len) && !s->ssl && !s->tried_tls)
			return PROBE_RECONNECT_TLS;
		if (!st->saw_http && !st->req.sensitive) {
			/* not HTTP: keep what the server said as its banner */
			if (s->banner_len == 0) {
				size_t n = len < PROBE_BANNER_MAX ? len : PROBE_BANNER_MAX;
				memcpy(s->banner, data, n);
				s->banner_len = n;
			}
			st->have_req = false;
			return PROBE_DONE;
		}
		http_parser_free(&st->parser);
		st->parser_live = false;
		return http_request_failed(s, "bad http response");
	}
	return PROBE_CONTINUE;
}

static enum probe_action http_on_eof(struct probe_session *s)
{
	struct probe_http_state *st = &s->http;
	if (!st->have_req)
		return PROBE_DONE;
	if (!st->parser_live)
		return http_request_failed(s, "connection closed");
	bool nothing = !st->parser.any_input;
	if (nothing && st->reused && st->resends < 1) {
		/* the server closed an idle keep-alive connection: resend once */
		st->resends++;
		http_parser_free(&st->parser);
		st->parser_live = false;
		return PROBE_RECONNECT;
	}
	int rc = http_parser_eof(&st->parser);
	if (rc == HTTP_DONE || st->parser.resp.status > 0) {
		if (rc != HTTP_DONE && !s->rec.error) {
			/* keep what arrived, but say the response was cut short */
			char why[200];
			snprintf(why, sizeof(why), "connection closed mid-response (%s)", st->parser.error);
			record_set(&s->rec.error, why);
		}
		http_deliver(s, &st->parser.resp);
		http_parser_free(&st->parser);
		st->parser_live = false;
		return http_after_response(s, false);
	}
	http_parser_free(&st->parser);
	st->parser_live = false;
	return http_request_failed(s, nothing ? "connection closed without a response" : "truncated response");
}

static enum probe_action http_on_timeout(struct probe_session *s)
{
	struct probe_http_state *st = &s->http;
	if (st->parser_live && st->parser.resp.status > 0) {
		/* headers arrived, the body stalls (a tarpit): keep what we have */
		http_deliver(s, &st->parser.resp);
		http_parser_free(&st->parser);
		st->parser_live = false;
		if (!s->rec.error)
			record_set(&s->rec.error, "timeout while reading a response body");
		return http_after_response(s, false);
	}
	if (st->parser_live) {
		http_parser_free(&st->parser);
		st->parser_live = false;
	}
	return http_request_failed(s, "timeout: no response");
}

static enum probe_action http_on_connect_error(struct probe_session *s, const char *why)
{
	struct probe_http_state *st = &s->http;
	if (s->use_tls && !s->tried_plain && !st->saw_http && strncmp(why, "tls", 3) == 0)
		return PROBE_RECONNECT_PLAIN;
	if (!st->saw_http || !st->have_req) {
		if (!s->rec.error)
			record_set(&s->rec.error, why);
		st->have_req = false;
		return PROBE_DONE;
	}
	return http_request_failed(s, why);
}

static void http_finish(struct probe_session *s)
{
	const struct probe_config *cfg = probe_session_config(s);
	struct probe_http_state *st = &s->http;
	if (!st->have_root)
		return;
	struct http_response *r = &st->root;
	struct record_http *h = &s->rec.http;
	s->rec.has_http = true;
	h->status = r->status;
	h->title = r->body ? html_title(r->body, r->body_len) : NULL;
	const char *server = http_response_header(r, "Server");
	if (server)
		record_set(&h->server, server);
	const char *loc = http_response_header(r, "Location");
	if (loc)
		record_set(&h->location, loc);
	for (size_t i = 0; i < r->nheaders; i++) {
		strlist_add(&h->header_names, r->headers[i].name);
		strlist_add(&h->header_values, r->headers[i].value);
	}
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_Digest(r->body ? r->body : (const uint8_t *)"", r->body_len, md, &mdlen, EVP_sha256(), NULL);
	for (unsigned i = 0; i < mdlen && i < 32; i++)
		snprintf(h->body_sha256 + 2 * i, 3, "%02x", md[i]);
	h->body_len = r->body_len;
	h->body_truncated = r->body_truncated;
	for (int i = 0; i < cfg->nchecks; i++)
		cfg->checks[i]->finish(st->check_state[i], &s->rec);
}

static void http_cleanup(struct probe_session *s)
{
	const struct probe_config *cfg = probe_session_config(s);
	struct probe_http_state *st = &s->http;
	if (st->parser_live) {
		if (st->req.sensitive && st->parser.resp.body)
			explicit_bzero(st->parser.resp.body, st->parser.resp.body_len);
		http_parser_free(&st->parser);
		st->parser_live = false;
	}
	if (st->have_root)
		http_response_free(&st->root);
	for (int i = 0; i < cfg->nchecks; i++) {
		if (st->check_state[i]) {
			if (cfg->checks[i]->cleanup)
				cfg->checks[i]->cleanup(st->check_state[i]);
			free(st->check_state[i]);
			st->check_state[i] = NULL;
		}
	}
}

const struct probe_module probe_module_http = {
	.name = "http",
	.start = http_start,
	.on_data = http_on_data,
	.on_eof = http_on_eof,
	.on_timeout = http_on_timeout,
	.on_connect_error = http_on_connect_error,
	.finish = http_finish,
	.cleanup = http_cleanup,
};
