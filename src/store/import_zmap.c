/* import_zmap.c - reads ZMap's CSV output. With a header row naming the
 * columns (saddr, sport, success, repeat, timestamp_ts, timestamp_str, ...
 * in any order), or without one: ZMap's default output is one address per
 * line (--output-fields=saddr --no-header-row). The scanned port is sport
 * (the reply's source port); without that column the caller's default port
 * is used. Rows with success=0 (RST replies) or repeat=1 (duplicates) are
 * skipped, not errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strbuf.h"
#include "store/import_int.h"

#define ZMAP_MAX_FIELDS 256

struct zmap_cols {
	int ncols;
	int saddr, sport, success, repeat, ts_ts, ts_str;
};

struct zfield {
	size_t off, len;  /* into the scratch buffer */
};

/* Split one CSV line (RFC 4180 quoting) into fields in scratch. Returns
 * the number of fields, or -1 for a broken quote / too many fields. */
static int csv_split(const char *l, size_t len, struct strbuf *scratch, struct zfield *f)
{
	strbuf_reset(scratch);
	strbuf_add(scratch, "", 0);  /* data is never NULL below */
	int n = 0;
	size_t i = 0;
	for (;;) {
		if (n == ZMAP_MAX_FIELDS)
			return -1;
		f[n].off = scratch->len;
		if (i < len && l[i] == '"') {
			i++;
			for (;;) {
				if (i >= len)
					return -1;
				if (l[i] == '"') {
					if (i + 1 < len && l[i + 1] == '"') {
						strbuf_add(scratch, "\"", 1);
						i += 2;
						continue;
					}
					i++;
					break;
				}
				strbuf_add(scratch, l + i, 1);
				i++;
			}
			if (i < len && l[i] != ',')
				return -1;
		} else {
			size_t s = i;
			while (i < len && l[i] != ',')
				i++;
			strbuf_add(scratch, l + s, i - s);
		}
		f[n].len = scratch->len - f[n].off;
		n++;
		if (i >= len)
			return n;
		i++;  /* the comma */
	}
}

static bool fld_is(const struct strbuf *sb, const struct zfield *f, const char *s)
{
	size_t n = strlen(s);
	return f->len == n && memcmp(sb->data + f->off, s, n) == 0;
}

/* 1 for true/1, 0 for false/0, -1 otherwise. */
static int fld_bool(const struct strbuf *sb, const struct zfield *f)
{
	if (fld_is(sb, f, "1") || fld_is(sb, f, "true"))
		return 1;
	if (fld_is(sb, f, "0") || fld_is(sb, f, "false"))
		return 0;
	return -1;
}

static void zmap_header(struct zmap_cols *h, const struct strbuf *sb, const struct zfield *f, int n)
{
	h->ncols = n;
	h->saddr = h->sport = h->success = h->repeat = h->ts_ts = h->ts_str = -1;
	for (int i = 0; i < n; i++) {
		/* tolerate blanks around names */
		struct zfield t = f[i];
		while (t.len > 0 && sb->data[t.off] == ' ') {
			t.off++;
			t.len--;
		}
		while (t.len > 0 && sb->data[t.off + t.len - 1] == ' ')
			t.len--;
		if (fld_is(sb, &t, "saddr"))
			h->saddr = i;
		else if (fld_is(sb, &t, "sport"))
			h->sport = i;
		else if (fld_is(sb, &t, "success"))
			h->success = i;
		else if (fld_is(sb, &t, "repeat"))
			h->repeat = i;
		else if (fld_is(sb, &t, "timestamp_ts"))
			h->ts_ts = i;
		else if (fld_is(sb, &t, "timestamp_str"))
			h->ts_str = i;
	}
}

static int zmap_row(struct import_ctx *c, const struct zmap_cols *h, const struct strbuf *sb,
		    const struct zfield *f, int n, uint64_t ln)
{
	if (n != h->ncols) {
		import_bad(c, ln, "expected %d fields, got %d", h->ncols, n);
		return 0;
	}
	if (h->success >= 0) {
		int ok = fld_bool(sb, &f[h->success]);
		if (ok < 0) {
			import_bad(c, ln, "success is not 0 or 1");
			return 0;
		}
		if (ok == 0) {
			c->rep->skipped++;
			return 0;
		}
	}
	if (h->repeat >= 0 && fld_bool(sb, &f[h->repeat]) == 1) {
		c->rep->skipped++;
		return 0;
	}
	uint32_t ip;
	int ok = import_parse_ip(sb->data + f[h->saddr].off, f[h->saddr].len, &ip);
	if (ok == -2) {
		import_bad(c, ln, "IPv6 not supported yet");
		return 0;
	}
	if (ok < 0) {
		import_bad(c, ln, "saddr is not an IPv4 address");
		return 0;
	}
	uint16_t port = c->default_port;
	if (h->sport >= 0) {
		uint32_t p;
		if (import_parse_uint(sb->data + f[h->sport].off, f[h->sport].len, 65535, &p) < 0 || p == 0) {
			import_bad(c, ln, "sport is not a port number");
			return 0;
		}
		port = (uint16_t)p;
	} else if (port == 0) {
		import_bad(c, ln, "no sport column and no default port");
		return 0;
	}
	time_t ts = c->default_time;
	if (h->ts_ts >= 0 && f[h->ts_ts].len > 0) {
		if (import_parse_unix(sb->data + f[h->ts_ts].off, f[h->ts_ts].len, &ts) < 0) {
			import_bad(c, ln, "timestamp_ts is not unix seconds");
			return 0;
		}
	} else if (h->ts_str >= 0 && f[h->ts_str].len > 0) {
		if (import_parse_time(sb->data + f[h->ts_str].off, f[h->ts_str].len, &ts) < 0) {
			import_bad(c, ln, "timestamp_str is not an ISO 8601 time");
			return 0;
		}
	}
	struct service_record rec;
	record_init(&rec, ip, port, ts);
	return import_emit(c, &rec);
}

int import_read_zmap(struct import_ctx *c)
{
	struct zmap_cols h = {0};
	bool have_cols = false;
	struct strbuf scratch;
	strbuf_init(&scratch);
	struct zfield f[ZMAP_MAX_FIELDS];
	const char *line;
	size_t len, i;
	uint64_t ln;
	int rc = 0;
	while (rc == 0 && import_next_line(c, true, &line, &len, &i, &ln) > 0) {
		int n = csv_split(line, len, &scratch, f);
		if (n < 0) {
			import_bad(c, ln, "broken CSV quoting or more than %d fields", ZMAP_MAX_FIELDS);
			continue;
		}
		if (!have_cols) {
			have_cols = true;
			zmap_header(&h, &scratch, f, n);
			if (h.saddr >= 0)
				continue;  /* that was the header row */
			/* no header: ZMap's default one-address-per-line output */
			h.ncols = 1;
			h.saddr = 0;
			h.sport = h.success = h.repeat = h.ts_ts = h.ts_str = -1;
		}
		rc = zmap_row(c, &h, &scratch, f, n, ln);
	}
	strbuf_free(&scratch);
	return rc;
}
