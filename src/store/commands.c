/* commands.c - the index's command-line verbs: search, count, stats,
 * host, scans, import, enrich. Human-readable tables by default (every
 * server-sent string escaped so it cannot drive the terminal), --json for
 * machines. */
#include "store/commands.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/alloc.h"
#include "lib/log.h"
#include "lib/strbuf.h"
#include "scan/targets.h"
#include "store/enrich.h"
#include "store/import.h"

/* Print s with control characters and invalid UTF-8 escaped, at most max
 * columns (bytes), padded to width. */
static void print_cell(const char *s, int width, int max)
{
	struct strbuf sb;
	strbuf_init(&sb);
	if (s)
		strbuf_json_str(&sb, s, strlen(s));
	else
		strbuf_adds(&sb, "\"-\"");
	/* drop the JSON quotes */
	const char *p = sb.data + 1;
	int len = (int)sb.len - 2;
	if (max > 0 && len > max) {
		printf("%.*s...", max - 3, p);
		len = max;
	} else {
		printf("%.*s", len, p);
	}
	for (int i = len; i < width; i++)
		putchar(' ');
	strbuf_free(&sb);
}

struct search_ctx {
	const struct store_cli *o;
	int64_t rows;
};

static void print_search_header(void)
{
	printf("%-22s %-16s %-32s %-15s %s\n", "ADDRESS", "SEEN (UTC)", "PRODUCT VERSION", "VERDICT", "TITLE");
}

static int print_row(void *arg, const struct store_row *r)
{
	struct search_ctx *c = arg;
	if (c->rows++ == 0 && !c->o->json)
		print_search_header();
	if (c->o->json) {
		/* the stored record plus where it came from */
		size_t len = strlen(r->record);
		if (len >= 2 && r->record[len - 1] == '}') {
			struct strbuf sb;
			strbuf_init(&sb);
			strbuf_add(&sb, r->record, len - 1);
			strbuf_printf(&sb, ",\"scan_id\":%" PRId64 ",\"scan\":", r->scan_id);
			strbuf_json_str(&sb, r->scan_name ? r->scan_name : "", r->scan_name ? strlen(r->scan_name) : 0);
			strbuf_adds(&sb, "}\n");
			fwrite(sb.data, 1, sb.len, stdout);
			strbuf_free(&sb);
		}
		return 0;
	}
	char ip[16], ts[32], addr[32];
	ipv4_format(r->ip, ip);
	snprintf(addr, sizeof(addr), "%s:%d", ip, r->port);
	time_t t = (time_t)r->ts;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M", &tm);
	char pv[96];
	snprintf(pv, sizeof(pv), "%s%s%s", r->product ? r->product : "-", r->version ? " " : "", r->version ? r->version : "");
	printf("%-22s %-16s ", addr, ts);
	print_cell(pv, 32, 32);
	putchar(' ');
	print_cell(r->verdict, 15, 15);
	putchar(' ');
	print_cell(r->title, 0, 40);
	putchar('\n');
	return 0;
}

int store_cli_search(struct store *s, const char *query, const struct store_cli *o)
{
	char err[STORE_ERR_LEN];
	struct search_ctx c = {.o = o};
	if (s->be->search(s, query, o->limit, 0, print_row, &c, err, sizeof(err)) < 0)
		log_die("%s", err);
	if (!o->json && c.rows == 0)
		printf("(no results)\n");
	return 0;
}

int store_cli_count(struct store *s, const char *query, const struct store_cli *o)
{
	char err[STORE_ERR_LEN];
	int64_t n;
	if (s->be->count(s, query, &n, err, sizeof(err)) < 0)
		log_die("%s", err);
	if (o->json)
		printf("{\"count\":%" PRId64 "}\n", n);
	else
		printf("%" PRId64 "\n", n);
	return 0;
}

struct facet_ctx {
	const struct store_cli *o;
	struct strbuf json;
	char last[64];
	int nfacets;
};

static int print_facet(void *arg, const char *facet, const struct store_facet_row *row)
{
	struct facet_ctx *c = arg;
	bool new_facet = strcmp(c->last, facet) != 0;
	if (new_facet)
		snprintf(c->last, sizeof(c->last), "%s", facet);
	if (c->o->json) {
		if (new_facet) {
			strbuf_adds(&c->json, c->nfacets ? "],\"" : "\"");
			strbuf_adds(&c->json, facet);
			strbuf_adds(&c->json, "\":[");
			c->nfacets++;
		} else {
			strbuf_adds(&c->json, ",");
		}
		strbuf_adds(&c->json, "{\"value\":");
		strbuf_json_str(&c->json, row->value ? row->value : "", row->value ? strlen(row->value) : 0);
		strbuf_printf(&c->json, ",\"count\":%" PRId64 "}", row->count);
		return 0;
	}
	if (new_facet)
		printf("%s%s:\n", c->nfacets++ ? "\n" : "", facet);
	printf("  %10" PRId64 "  ", row->count);
	print_cell(row->value, 0, 60);
	putchar('\n');
	return 0;
}

int store_cli_stats(struct store *s, const char *query, const struct store_cli *o)
{
	char err[STORE_ERR_LEN];
	int64_t n;
	if (s->be->count(s, query, &n, err, sizeof(err)) < 0)
		log_die("%s", err);
	struct facet_ctx c = {.o = o};
	strbuf_init(&c.json);
	if (!o->json)
		printf("total: %" PRId64 "\n\n", n);
	if (s->be->facets(s, query, o->facets ? o->facets : "port,product,verdict,country", print_facet, &c, err,
			  sizeof(err)) < 0)
		log_die("%s", err);
	if (o->json)
		printf("{\"total\":%" PRId64 ",\"facets\":{%s%s}}\n", n, c.json.data ? c.json.data : "", c.nfacets ? "]" : "");
	strbuf_free(&c.json);
	return 0;
}

int store_cli_host(struct store *s, const char *ip, const struct store_cli *o)
{
	uint32_t a;
	if (ipv4_parse(ip, strlen(ip), &a) < 0)
		log_die("bad address '%s': expected an IPv4 address like 198.51.100.7", ip);
	char q[32];
	snprintf(q, sizeof(q), "ip:%s", ip);
	struct store_cli all = *o;
	if (all.limit <= 0 || all.limit == 100)
		all.limit = 100000;
	return store_cli_search(s, q, &all);
}

static int print_scan(void *arg, const struct store_scan_row *r)
{
	const struct store_cli *o = arg;
	char started[32] = "-", finished[32] = "unfinished";
	time_t t = (time_t)r->started;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(started, sizeof(started), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (r->finished) {
		t = (time_t)r->finished;
		gmtime_r(&t, &tm);
		strftime(finished, sizeof(finished), "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	if (o->json) {
		struct strbuf sb;
		strbuf_init(&sb);
		strbuf_printf(&sb, "{\"id\":%" PRId64 ",\"name\":", r->id);
		strbuf_json_str(&sb, r->name ? r->name : "", r->name ? strlen(r->name) : 0);
		strbuf_printf(&sb, ",\"started\":\"%s\",\"finished\":", started);
		if (r->finished)
			strbuf_printf(&sb, "\"%s\"", finished);
		else
			strbuf_adds(&sb, "null");
		strbuf_adds(&sb, ",\"source\":");
		strbuf_json_str(&sb, r->source ? r->source : "", r->source ? strlen(r->source) : 0);
		strbuf_printf(&sb, ",\"services\":%" PRId64 "}\n", r->services);
		fwrite(sb.data, 1, sb.len, stdout);
		strbuf_free(&sb);
		return 0;
	}
	printf("%-5" PRId64 " ", r->id);
	print_cell(r->name, 24, 24);
	printf(" %-20s %-20s %9" PRId64 "  ", started, finished, r->services);
	print_cell(r->source, 0, 30);
	putchar('\n');
	return 0;
}

int store_cli_scans(struct store *s, const struct store_cli *o)
{
	char err[STORE_ERR_LEN];
	if (!o->json)
		printf("%-5s %-24s %-20s %-20s %9s  %s\n", "ID", "NAME", "STARTED", "FINISHED", "SERVICES", "SOURCE");
	if (s->be->scans(s, print_scan, (void *)(uintptr_t)o, err, sizeof(err)) < 0)
		log_die("%s", err);
	return 0;
}

struct import_ctx {
	struct store *s;
	int64_t scan_id;
	const struct enrich *enrich;
	char err[STORE_ERR_LEN];
	bool failed;
};

static int import_one(void *arg, const struct service_record *rec)
{
	struct import_ctx *c = arg;
	const struct service_record *use = rec;
	if (c->enrich) {
		/* the importer's record is const: enrich a shallow copy's fields */
		struct service_record *tmp = (struct service_record *)(uintptr_t)rec;
		enrich_record(c->enrich, tmp, false);
	}
	if (c->s->be->add(c->s, c->scan_id, use, c->err, sizeof(c->err)) < 0) {
		c->failed = true;
		return 1;
	}
	return 0;
}

int store_cli_import(struct store *s, const char *path, const char *format, uint16_t port, const char *scan_name,
		     const struct enrich *en)
{
	enum import_format fmt;
	if (import_format_parse(format ? format : "auto", &fmt) < 0)
		log_die("unknown import format '%s': use auto, vigil, masscan-json, masscan-list, zmap-csv, nmap-xml or shodan",
			format);
	struct import_ctx c = {.s = s, .enrich = en};
	char err[STORE_ERR_LEN];
	char source[64];
	if (fmt == IMPORT_AUTO && strcmp(path, "-") != 0) {
		/* name the detected format in the scans table */
		FILE *f = fopen(path, "rb");
		if (f) {
			uint8_t head[4096];
			size_t n = fread(head, 1, sizeof(head), f);
			fclose(f);
			fmt = import_detect(head, n);
		}
	}
	snprintf(source, sizeof(source), "import:%s", import_format_name(fmt));
	struct store_scan_info info = {.name = scan_name, .targets = path, .source = source};
	if (s->be->pipeline)
		s->be->pipeline(s, true);  /* parse on this thread, write on another */
	if (s->be->scan_begin(s, &info, &c.scan_id, err, sizeof(err)) < 0)
		log_die("%s", err);
	struct import_report rep;
	memset(&rep, 0, sizeof(rep));
	if (import_file(path, fmt, port, import_one, &c, &rep, err, sizeof(err)) < 0)
		log_die("%s", err);
	if (c.failed) {
		s->be->scan_end(s, c.scan_id, false, err, sizeof(err));
		log_die("%s (records stored before it are kept)", c.err);
	}
	if (s->be->scan_end(s, c.scan_id, true, err, sizeof(err)) < 0)
		log_die("%s", err);
	for (int i = 0; i < rep.nerrors && i < 5; i++)
		fprintf(stderr, "vigil: %s: %s\n", path, rep.first_errors[i]);
	fprintf(stderr, "vigil: imported %" PRIu64 " services from %s as scan %" PRId64 "; %" PRIu64 " bad lines skipped\n",
		rep.records, path, c.scan_id, rep.bad_lines);
	return 0;
}

static void enrich_one(void *arg, struct service_record *rec)
{
	enrich_record(arg, rec, true);
}

int store_cli_enrich(struct store *s, int64_t scan_id, const struct enrich *en)
{
	char err[STORE_ERR_LEN];
	int64_t changed = 0;
	if (!s->be->rewrite)
		log_die("re-enrichment is not supported by the %s backend yet", s->be->name);
	if (s->be->rewrite(s, scan_id, enrich_one, (void *)(uintptr_t)en, &changed, err, sizeof(err)) < 0)
		log_die("%s", err);
	fprintf(stderr, "vigil: enriched %" PRId64 " services\n", changed);
	return 0;
}
