/* import_masscan.c - reads masscan output: -oJ (a JSON array, one object
 * per line, with masscan's quirks: commas before or after objects, a
 * missing final "]"; also compact or pretty-printed arrays and -oD NDJSON)
 * and -oL ("open tcp 80 198.51.100.1 1390380064", "banner tcp 80 IP TS
 * APP TEXT"). masscan reports a port's banners as separate entries,
 * usually a few seconds after the port itself, so records wait in a
 * bounded window (up to MS_WINDOW services, oldest emitted first) where
 * later banners for the same address and port are merged in and repeated
 * open reports are dropped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/alloc.h"
#include "lib/strbuf.h"
#include "store/import_int.h"

#define MS_WINDOW 4096  /* at most this many services held back for banner merging */
#define MS_START 64     /* the window starts small and doubles up to MS_WINDOW */

/* ---- the merge window: a FIFO ring of records with a hash index ---- */

struct import_window {
	struct service_record *rec;  /* ring of cap records, oldest at head */
	size_t cap, head, count;
	int32_t *slot;               /* 2 * cap slots (load <= 1/2): ring index or -1 */
};

static size_t win_mask(const struct import_window *w)
{
	return 2 * w->cap - 1;
}

static size_t win_home(const struct import_window *w, uint32_t ip, uint16_t port)
{
	uint64_t k = ((uint64_t)ip << 16 | port) * 0x9e3779b97f4a7c15ull;
	return (size_t)(k >> 40) & win_mask(w);
}

/* Slot holding (ip, port), or the empty slot where it would go. */
static size_t win_slot(const struct import_window *w, uint32_t ip, uint16_t port)
{
	size_t i = win_home(w, ip, port);
	while (w->slot[i] >= 0) {
		const struct service_record *r = &w->rec[w->slot[i]];
		if (r->ip == ip && r->port == port)
			return i;
		i = (i + 1) & win_mask(w);
	}
	return i;
}

static void win_alloc(struct import_window *w, size_t cap)
{
	w->cap = cap;
	w->rec = xcalloc(cap, sizeof(*w->rec));
	w->slot = xmalloc(2 * cap * sizeof(*w->slot));
	for (size_t i = 0; i < 2 * cap; i++)
		w->slot[i] = -1;
}

struct import_window *import_window_new(void)
{
	struct import_window *w = xcalloc(1, sizeof(*w));
	win_alloc(w, MS_START);
	return w;
}

/* Double the capacity (the ring is full): records move, in order, to the
 * start of the new ring and the index is rebuilt. */
static void win_grow(struct import_window *w)
{
	struct service_record *old = w->rec;
	size_t oldcap = w->cap, head = w->head, count = w->count;
	free(w->slot);
	win_alloc(w, oldcap * 2);
	for (size_t k = 0; k < count; k++) {
		w->rec[k] = old[(head + k) % oldcap];
		w->slot[win_slot(w, w->rec[k].ip, w->rec[k].port)] = (int32_t)k;
	}
	w->head = 0;
	free(old);
}

static struct service_record *win_find(struct import_window *w, uint32_t ip, uint16_t port)
{
	size_t i = win_slot(w, ip, port);
	return w->slot[i] >= 0 ? &w->rec[w->slot[i]] : NULL;
}

/* Remove slot i (backward-shift deletion keeps probe chains intact). */
static void win_unhash(struct import_window *w, size_t i)
{
	size_t j = i;
	for (;;) {
		j = (j + 1) & win_mask(w);
		if (w->slot[j] < 0)
			break;
		const struct service_record *r = &w->rec[w->slot[j]];
		size_t k = win_home(w, r->ip, r->port);
		/* the entry at j may move to i unless its home lies in (i, j] */
		bool stays = i <= j ? (k > i && k <= j) : (k > i || k <= j);
		if (!stays) {
			w->slot[i] = w->slot[j];
			i = j;
		}
	}
	w->slot[i] = -1;
}

/* Emit the oldest record. Returns -1 when emit() asked to stop. */
static int win_pop(struct import_ctx *c, struct import_window *w)
{
	struct service_record *r = &w->rec[w->head];
	win_unhash(w, win_slot(w, r->ip, r->port));
	w->head = (w->head + 1) % w->cap;
	w->count--;
	if (c->stopped) {
		record_free(r);
		return -1;
	}
	return import_emit(c, r);
}

struct service_record *import_window_get(struct import_ctx *c, struct import_window *w, uint32_t ip, uint16_t port,
					 time_t ts, bool *created)
{
	*created = false;
	struct service_record *r = win_find(w, ip, port);
	if (r)
		return r;
	if (w->count == w->cap) {
		if (w->cap < MS_WINDOW)
			win_grow(w);
		else if (win_pop(c, w) < 0)
			return NULL;
	}
	size_t pos = (w->head + w->count) % w->cap;
	r = &w->rec[pos];
	record_init(r, ip, port, ts);
	w->slot[win_slot(w, ip, port)] = (int32_t)pos;
	w->count++;
	*created = true;
	return r;
}

int import_window_flush(struct import_ctx *c, struct import_window *w)
{
	int rc = 0;
	while (w->count > 0)
		if (win_pop(c, w) < 0)
			rc = -1;
	return rc;
}

void import_window_free(struct import_window *w)
{
	while (w->count > 0) {
		record_free(&w->rec[w->head]);
		w->head = (w->head + 1) % w->cap;
		w->count--;
	}
	free(w->rec);
	free(w->slot);
	free(w);
}

/* ---- banners ---- */

static bool app_is(const char *app, size_t n, const char *want)
{
	return n == strlen(want) && memcmp(app, want, n) == 0;
}

void import_masscan_banner(struct service_record *rec, const char *app, size_t applen, const char *data, size_t n)
{
	rec->probed = true;
	if (app_is(app, applen, "title")) {
		rec->has_http = true;
		import_set_str(&rec->http.title, data, n, 1024);
	} else if (app_is(app, applen, "http.server")) {
		rec->has_http = true;
		import_set_str(&rec->http.server, data, n, 1024);
	} else if (app_is(app, applen, "ssl") || app_is(app, applen, "tls")) {
		/* "TLS/1.2 cipher:0xc02f, www.example.com, ..." or "SSLv3 ..." */
		rec->has_tls = true;
		if (n >= 7 && (memcmp(data, "TLS/1.", 6) == 0) && data[6] >= '0' && data[6] <= '3')
			snprintf(rec->tls.version, sizeof(rec->tls.version), "TLSv1.%c", data[6]);
		else if (n >= 5 && memcmp(data, "SSLv3", 5) == 0)
			snprintf(rec->tls.version, sizeof(rec->tls.version), "SSLv3");
	} else if (app_is(app, applen, "X509") || app_is(app, applen, "x509")) {
		rec->has_tls = true;  /* the base64 certificate itself is not decoded */
	} else if (!rec->banner) {
		import_set_banner(rec, data, n);
		if (app_is(app, applen, "http"))
			import_http_head(rec, data, n);
	}
}

/* ---- -oJ / -oD ---- */

struct mj_state {
	struct strbuf text;   /* input not consumed yet */
	uint64_t first_line;  /* line number of text[0] */
	size_t cnt_pos;       /* newlines counted in text[0..cnt_pos) */
	uint64_t cnt_lines;
	bool eof;
};

static uint64_t mj_line_at(struct mj_state *m, size_t pos)
{
	if (pos < m->cnt_pos) {
		m->cnt_pos = 0;
		m->cnt_lines = 0;
	}
	for (; m->cnt_pos < pos; m->cnt_pos++)
		if (m->text.data[m->cnt_pos] == '\n')
			m->cnt_lines++;
	return m->first_line + m->cnt_lines;
}

/* Drop text[0..upto). */
static void mj_consume(struct mj_state *m, size_t upto)
{
	uint64_t line = mj_line_at(m, upto);
	memmove(m->text.data, m->text.data + upto, m->text.len - upto);
	m->text.len -= upto;
	m->text.data[m->text.len] = '\0';
	m->first_line = line;
	m->cnt_pos = 0;
	m->cnt_lines = 0;
}

/* Append the next input line. Returns false at the end of input. */
static bool mj_append(struct import_ctx *c, struct mj_state *m)
{
	const char *line;
	size_t len;
	bool too_long;
	for (;;) {
		if (m->eof || import_src_line(c->src, &line, &len, &too_long) <= 0) {
			m->eof = true;
			return false;
		}
		if (!too_long)
			break;
		import_bad(c, c->src->lineno, "line longer than %u bytes", IMPORT_MAX_LINE);
	}
	if (m->text.len == 0)
		m->first_line = c->src->lineno;
	else
		strbuf_add(&m->text, "\n", 1);
	strbuf_add(&m->text, line, len);
	return true;
}

/* One masscan JSON port entry (an element of "ports", or the -oD object). */
static int mj_port(struct import_ctx *c, struct import_window *w, uint64_t ln, uint32_t ip, time_t ts,
		   const struct ij_val *p)
{
	int64_t port;
	if (p->type != IJ_OBJ) {
		import_bad(c, ln, "a ports entry is not an object");
		return 0;
	}
	if (ij_int(ij_get(p, "port"), 0, 65535, true, &port) < 0) {
		import_bad(c, ln, "%s", ij_get(p, "port") ? "port is not a port number" : "no port");
		return 0;
	}
	const char *proto = ij_get_str(p, "proto");
	if (proto && strcmp(proto, "tcp") != 0) {
		import_bad(c, ln, "proto %.20s not supported (tcp only)", proto);
		return 0;
	}
	if (port == 0) {
		import_bad(c, ln, "port 0");
		return 0;
	}
	/* -oJ: "service": {"name", "banner"}; -oD: "data": {"service_name", "banner"} */
	const struct ij_val *svc = ij_get_type(p, "service", IJ_OBJ);
	const struct ij_val *data = ij_get_type(p, "data", IJ_OBJ);
	const char *rec_type = ij_get_str(p, "rec_type");
	const char *status = ij_get_str(p, "status");
	if (!svc && data && rec_type && strcmp(rec_type, "banner") == 0)
		svc = data;
	if (!status && data)
		status = ij_get_str(data, "status");
	bool created;
	if (svc) {
		const struct ij_val *name = ij_get_type(svc, "name", IJ_STR);
		if (!name)
			name = ij_get_type(svc, "service_name", IJ_STR);
		const struct ij_val *banner = ij_get_type(svc, "banner", IJ_STR);
		struct service_record *r = import_window_get(c, w, ip, (uint16_t)port, ts, &created);
		if (!r)
			return -1;
		if (banner)
			import_masscan_banner(r, name ? name->str : "", name ? name->len : 0, banner->str, banner->len);
		return 0;
	}
	if (!status) {
		import_bad(c, ln, "ports entry with neither status nor service");
		return 0;
	}
	if (strcmp(status, "open") != 0) {
		c->rep->skipped++;
		return 0;
	}
	return import_window_get(c, w, ip, (uint16_t)port, ts, &created) ? 0 : -1;
}

static int mj_object(struct import_ctx *c, struct import_window *w, uint64_t ln, const struct ij_val *o)
{
	const struct ij_val *ipv = ij_get_type(o, "ip", IJ_STR);
	if (!ipv) {
		import_bad(c, ln, "%s", ij_get(o, "ip") ? "ip is not a string" : "no ip");
		return 0;
	}
	uint32_t ip;
	int ok = import_parse_ip(ipv->str, ipv->len, &ip);
	if (ok == -2) {
		import_bad(c, ln, "IPv6 not supported yet");
		return 0;
	}
	if (ok < 0) {
		import_bad(c, ln, "ip is not an IPv4 address");
		return 0;
	}
	time_t ts = c->default_time;
	int64_t t;
	const struct ij_val *tv = ij_get(o, "timestamp");
	if (tv) {
		if (ij_int(tv, 0, IMPORT_MAX_TIME, true, &t) < 0) {
			import_bad(c, ln, "timestamp is not unix seconds");
			return 0;
		}
		ts = (time_t)t;
	}
	const struct ij_val *ports = ij_get(o, "ports");
	if (!ports) {
		if (ij_get(o, "port"))  /* -oD: the object is the port entry */
			return mj_port(c, w, ln, ip, ts, o);
		import_bad(c, ln, "no ports");
		return 0;
	}
	if (ports->type != IJ_ARR) {
		import_bad(c, ln, "ports is not an array");
		return 0;
	}
	for (const struct ij_val *p = ports->child; p; p = p->next)
		if (mj_port(c, w, ln, ip, ts, p) < 0)
			return -1;
	return 0;
}

static int mj_run(struct import_ctx *c, struct import_window *w, struct mj_state *m)
{
	size_t pos = 0;
	for (;;) {
		while (pos < m->text.len && strchr(" \t\r\n[],", m->text.data[pos]))
			pos++;
		if (pos >= m->text.len) {
			m->text.len = 0;
			m->cnt_pos = 0;
			m->cnt_lines = 0;
			pos = 0;
			if (!mj_append(c, m))
				return 0;
			continue;
		}
		uint64_t ln = mj_line_at(m, pos);
		if (m->text.data[pos] != '{') {
			import_bad(c, ln, "expected '{' starting a masscan JSON object");
			const char *nl = memchr(m->text.data + pos, '\n', m->text.len - pos);
			pos = nl ? (size_t)(nl - m->text.data) + 1 : m->text.len;
			continue;
		}
		size_t start = pos;
		struct ij_val *root;
		char jerr[128];
		ij_arena_reset(c->arena);
		int rc = ij_parse(c->arena, m->text.data, m->text.len, &pos, IJ_RAW_BYTES, &root, jerr, sizeof(jerr));
		if (rc == IJ_OK) {
			if (mj_object(c, w, ln, root) < 0)
				return -1;
			continue;
		}
		if (rc == IJ_INCOMPLETE && !m->eof && m->text.len - start < IMPORT_MAX_LINE) {
			/* an object spread over lines: read on, doubling the text each time */
			if (start > 0)
				mj_consume(m, start);
			size_t target = m->text.len * 2 + 4096;
			while (m->text.len < target && mj_append(c, m))
				;
			pos = 0;
			continue;
		}
		if (rc == IJ_INCOMPLETE)
			import_bad(c, ln, "%s", m->eof ? "JSON object not closed before the end of the file"
						       : "JSON object longer than the limit");
		else
			import_bad(c, ln, "invalid JSON: %s", jerr);
		/* resume at the line where the error is if that is a later line
		 * (a truncated object followed by a good one), else after the
		 * object's first line */
		size_t err_at = pos < m->text.len ? pos : m->text.len;
		size_t ls = err_at;
		while (ls > start && m->text.data[ls - 1] != '\n')
			ls--;
		if (ls > start && rc != IJ_INCOMPLETE) {
			pos = ls;
		} else {
			const char *nl = memchr(m->text.data + start, '\n', m->text.len - start);
			pos = nl ? (size_t)(nl - m->text.data) + 1 : m->text.len;
		}
	}
}

int import_read_masscan_json(struct import_ctx *c)
{
	struct import_window *w = import_window_new();
	struct mj_state m = {0};
	strbuf_init(&m.text);
	int rc = mj_run(c, w, &m);
	if (import_window_flush(c, w) < 0)
		rc = -1;
	strbuf_free(&m.text);
	import_window_free(w);
	return rc;
}

/* ---- -oL ---- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

size_t import_unescape_x(char *s, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\' && i + 3 < n && s[i + 1] == 'x' && hexval(s[i + 2]) >= 0 && hexval(s[i + 3]) >= 0) {
			s[o++] = (char)(hexval(s[i + 2]) << 4 | hexval(s[i + 3]));
			i += 3;
			continue;
		}
		s[o++] = s[i];
	}
	return o;
}

/* Split off the next space-separated field of l[*pos..len). */
static bool next_field(const char *l, size_t len, size_t *pos, const char **f, size_t *flen)
{
	size_t i = *pos;
	while (i < len && (l[i] == ' ' || l[i] == '\t'))
		i++;
	if (i >= len)
		return false;
	size_t s = i;
	while (i < len && l[i] != ' ' && l[i] != '\t')
		i++;
	*f = l + s;
	*flen = i - s;
	*pos = i;
	return true;
}

static int ml_line(struct import_ctx *c, struct import_window *w, const char *l, size_t len, uint64_t ln)
{
	const char *f[5];
	size_t fl[5];
	size_t pos = 0;
	for (int k = 0; k < 5; k++) {
		if (!next_field(l, len, &pos, &f[k], &fl[k])) {
			import_bad(c, ln, "expected 'open PROTO PORT IP TIMESTAMP'");
			return 0;
		}
	}
	bool open = app_is(f[0], fl[0], "open"), banner = app_is(f[0], fl[0], "banner");
	if (!open && !banner && !app_is(f[0], fl[0], "closed")) {
		import_bad(c, ln, "expected 'open PROTO PORT IP TIMESTAMP'");
		return 0;
	}
	if (!app_is(f[1], fl[1], "tcp")) {
		import_bad(c, ln, "proto %.*s not supported (tcp only)", (int)(fl[1] > 20 ? 20 : fl[1]), f[1]);
		return 0;
	}
	uint32_t port;
	if (import_parse_uint(f[2], fl[2], 65535, &port) < 0 || port == 0) {
		import_bad(c, ln, "bad port");
		return 0;
	}
	uint32_t ip;
	int ok = import_parse_ip(f[3], fl[3], &ip);
	if (ok == -2) {
		import_bad(c, ln, "IPv6 not supported yet");
		return 0;
	}
	if (ok < 0) {
		import_bad(c, ln, "bad IPv4 address");
		return 0;
	}
	time_t ts;
	if (import_parse_unix(f[4], fl[4], &ts) < 0) {
		import_bad(c, ln, "bad timestamp (expected unix seconds)");
		return 0;
	}
	if (!open && !banner) {
		c->rep->skipped++;
		return 0;
	}
	bool created;
	struct service_record *r = import_window_get(c, w, ip, (uint16_t)port, ts, &created);
	if (!r)
		return -1;
	if (banner) {
		const char *app;
		size_t applen;
		if (!next_field(l, len, &pos, &app, &applen))
			return 0;  /* a banner line without text: the port is still open */
		if (pos < len)
			pos++;  /* the single space before the text */
		size_t n = len - pos;
		char *text = xmalloc(n + 1);
		memcpy(text, l + pos, n);
		n = import_unescape_x(text, n);
		import_masscan_banner(r, app, applen, text, n);
		free(text);
	}
	return 0;
}

int import_read_masscan_list(struct import_ctx *c)
{
	struct import_window *w = import_window_new();
	const char *line;
	size_t len, i;
	uint64_t ln;
	int rc = 0;
	while (rc == 0 && import_next_line(c, true, &line, &len, &i, &ln) > 0) {
		rc = ml_line(c, w, line + i, len - i, ln);
	}
	if (import_window_flush(c, w) < 0)
		rc = -1;
	import_window_free(w);
	return rc;
}
