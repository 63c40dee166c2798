/* store_sqlite.c - the SQLite backend (default): one file in WAL mode,
 * the schema and its migrations, batched writes (a crash loses at most the
 * open batch and never leaves a half-written row), contentless FTS5 over
 * banners, titles and headers plus a trigram index for substrings, and
 * per-scan facet counts kept with each batch. Queries: store_sqlite_query.c. */
#include <inttypes.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/alloc.h"
#include "lib/timeutil.h"
#include "query/query.h"
#include "store/import.h"
#include "store/store.h"
#include "store/store_sqlite_int.h"

#define SQLITE_BATCH 20000

/* Each migration takes the schema from version i to i+1. */
static const char *const sqlite_migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);"
	"CREATE TABLE scans(id INTEGER PRIMARY KEY, name TEXT, started INTEGER, finished INTEGER,"
	" targets TEXT, ports TEXT, options TEXT, source TEXT);"
	"CREATE TABLE services(id INTEGER PRIMARY KEY, scan_id INTEGER NOT NULL REFERENCES scans(id),"
	" ip INTEGER NOT NULL, port INTEGER NOT NULL, transport TEXT, ts INTEGER,"
	" http_status INTEGER, http_title TEXT, http_server TEXT, http_location TEXT, http_body_sha256 TEXT,"
	" http_body_len INTEGER, http_favicon_hash INTEGER, headers TEXT, has_tls INTEGER,"
	" tls_version TEXT, tls_cipher TEXT, cert_subject_cn TEXT, cert_issuer_cn TEXT, cert_sans TEXT,"
	" cert_sha256 TEXT, cert_not_after TEXT, banner TEXT, product TEXT, edition TEXT, version TEXT,"
	" version_source TEXT, verdict TEXT, compromised INTEGER, country TEXT, asn INTEGER, org TEXT);"
	/* the JSON record lives apart, so services rows stay small and
	 * counting or filtering large result sets reads little */
	"CREATE TABLE records(id INTEGER PRIMARY KEY, record TEXT);"
	"CREATE TABLE vulns(service_id INTEGER NOT NULL, cve TEXT NOT NULL);"
	"CREATE TABLE findings(id INTEGER PRIMARY KEY, service_id INTEGER NOT NULL, check_name TEXT,"
	" verdict TEXT, cves TEXT, evidence TEXT);"
	"CREATE VIRTUAL TABLE services_fts USING fts5(banner, http_title, headers, content='services',"
	" content_rowid='id');"
	"CREATE VIRTUAL TABLE services_tri USING fts5(http_title, http_server, content='services',"
	" content_rowid='id', tokenize='trigram');"
	"CREATE INDEX services_ip ON services(ip);"
	"CREATE INDEX services_port ON services(port);"
	"CREATE INDEX services_ts ON services(ts);"
	/* one row per (scan, ip, port): a resumed scan or a replayed batch
	 * cannot store a service twice */
	"CREATE UNIQUE INDEX services_scan ON services(scan_id, ip, port);"
	"CREATE INDEX services_product ON services(lower(product));"
	"CREATE INDEX services_verdict ON services(lower(verdict));"
	"CREATE INDEX services_country ON services(upper(country));"
	"CREATE INDEX services_asn ON services(asn);"
	"CREATE INDEX services_favicon ON services(http_favicon_hash);"
	"CREATE INDEX vulns_service ON vulns(service_id);"
	"CREATE INDEX vulns_cve ON vulns(upper(cve));",
	/* 1 -> 2: queries answer indexed terms from indexes alone, as id
	 * lists (store_sqlite_query.c). Exact-value filters (port, product,
	 * verdict, country, asn, favicon, has_tls, compromised) become tokens
	 * of one contentless full-text table, services_tags (query_tag): FTS5
	 * sorts a batch's tokens in memory and writes them as one segment,
	 * far cheaper than a B-tree index each; its rows are filled by
	 * sq_tags_fill. Server headers, few distinct values, are a dictionary
	 * (servers) whose ids are tags too; titles keep a trigram index. The
	 * full-text and trigram indexes keep no copy of the text either, so banner and headers leave the services rows; ip
	 * lookups use services_scan scan by scan; CVE lookups are covered;
	 * facet_counts keeps the empty query's facets per scan. */
	"CREATE VIRTUAL TABLE services_fts2 USING fts5(banner, http_title, headers, content='', columnsize=0);"
	"INSERT INTO services_fts2(rowid, banner, http_title, headers) SELECT id, banner, http_title, headers FROM services;"
	"DROP TABLE services_fts;"
	"ALTER TABLE services_fts2 RENAME TO services_fts;"
	"CREATE VIRTUAL TABLE services_tri2 USING fts5(http_title, content='', columnsize=0, tokenize='trigram');"
	"INSERT INTO services_tri2(rowid, http_title) SELECT id, http_title FROM services WHERE http_title IS NOT NULL;"
	"CREATE TABLE servers(id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE);"
	"DROP TABLE services_tri;"
	"ALTER TABLE services_tri2 RENAME TO services_tri;"
	"CREATE VIRTUAL TABLE services_tags USING fts5(tags, content='', columnsize=0, detail=none,"
	" tokenize='unicode61 remove_diacritics 0');"
	"ALTER TABLE services DROP COLUMN banner;"
	"ALTER TABLE services DROP COLUMN headers;"
	/* no filter or facet reads these: the record has them */
	"ALTER TABLE services DROP COLUMN http_location;"
	"ALTER TABLE services DROP COLUMN http_body_sha256;"
	"ALTER TABLE services DROP COLUMN http_body_len;"
	"ALTER TABLE services DROP COLUMN tls_version;"
	"ALTER TABLE services DROP COLUMN tls_cipher;"
	"ALTER TABLE services DROP COLUMN cert_not_after;"
	"ALTER TABLE services DROP COLUMN version_source;"
	"DROP INDEX services_ip;"
	"DROP INDEX services_port;"
	"DROP INDEX services_product;"
	"DROP INDEX services_verdict;"
	"DROP INDEX services_country;"
	"DROP INDEX services_asn;"
	"DROP INDEX services_favicon;"
	"DROP INDEX vulns_cve;"
	"CREATE INDEX vulns_cve ON vulns(upper(cve), service_id);"
	"CREATE TABLE facet_counts(scan_id INTEGER NOT NULL, facet TEXT NOT NULL, value, n INTEGER NOT NULL,"
	" PRIMARY KEY(scan_id, facet, value)) WITHOUT ROWID;",
};
#define SQ_SCHEMA_LATEST (int)(sizeof(sqlite_migrations) / sizeof(sqlite_migrations[0]))

const char *sq_migration_sql(int from)
{
	return from >= 0 && from < SQ_SCHEMA_LATEST ? sqlite_migrations[from] : NULL;
}

/* Columns of services rows: store_columns minus these (in the full-text
 * index or only in the record: no filter or facet reads them). */
static bool sq_column_kept(const char *name)
{
	static const char *const dropped[] = {"banner", "headers", "record", "http_location", "http_body_sha256",
					      "http_body_len", "tls_version", "tls_cipher", "cert_not_after",
					      "version_source"};
	for (size_t i = 0; i < sizeof(dropped) / sizeof(dropped[0]); i++)
		if (strcmp(name, dropped[i]) == 0)
			return false;
	return true;
}

/* The index of a column in store_columns (it must be there). */
static int sq_col(const char *name)
{
	int c = 0;
	while (strcmp(store_columns[c], name) != 0)
		c++;
	return c;
}

const struct sq_mat_facet sq_mat_facets[] = {
	{"port", "port"},       {"transport", "transport"}, {"http.status", "http_status"},
	{"product", "product"}, {"version", "version"},     {"verdict", "verdict"},
	{"country", "country"}, {"asn", "asn"},             {"org", "org"},
	{"vuln", NULL},
};
const size_t sq_mat_nfacets = sizeof(sq_mat_facets) / sizeof(sq_mat_facets[0]);

int sq_mat_facet_index(const char *name)
{
	for (size_t i = 0; i < sq_mat_nfacets; i++)
		if (strcmp(sq_mat_facets[i].name, name) == 0)
			return (int)i;
	return -1;
}

int sq_fail(struct sq *q, char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s: %s", what, sqlite3_errmsg(q->db));
	return -1;
}

static int sq_exec(struct sq *q, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;
	if (sqlite3_exec(q->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "database error: %s", msg ? msg : sqlite3_errmsg(q->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int sq_schema_version(struct sq *q)
{
	sqlite3_stmt *st;
	int v = 0;
	if (sqlite3_prepare_v2(q->db, "SELECT value FROM meta WHERE key='schema_version'", -1, &st, NULL) != SQLITE_OK)
		return 0;  /* no meta table: empty database */
	if (sqlite3_step(st) == SQLITE_ROW)
		v = atoi((const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return v;
}

/* The services_tags text of a row: one query_tag token per tagged value
 * (the columns of sq_tag_columns, in that order). */
static const char *const sq_tag_columns[] = {"port", "product", "verdict", "country", "asn", "http_favicon_hash",
					      "has_tls", "compromised"};
#define SQ_NTAGS (sizeof(sq_tag_columns) / sizeof(sq_tag_columns[0]))

static void sq_tags_text(struct strbuf *out, const struct store_value *tv, int64_t server_id)
{
	static const char *const prefix[SQ_NTAGS] = {QUERY_TAG_PORT, QUERY_TAG_PRODUCT, QUERY_TAG_VERDICT,
						     QUERY_TAG_COUNTRY, QUERY_TAG_ASN, QUERY_TAG_FAVICON,
						     QUERY_TAG_TLS, QUERY_TAG_COMPROMISED};
	strbuf_reset(out);
	for (size_t i = 0; i < SQ_NTAGS; i++) {
		char tag[QUERY_TAG_MAX];
		size_t n = 0;
		if (i == 6 && !(tv[i].type == SV_INT && tv[i].i == 1))
			continue;  /* has_tls: only true is tagged */
		if (tv[i].type == SV_INT)
			n = query_tag_int(tag, prefix[i], tv[i].i);
		else if (tv[i].type == SV_TEXT)
			n = query_tag(tag, prefix[i], tv[i].s, strlen(tv[i].s));
		if (n) {
			strbuf_add(out, tag, n);
			strbuf_add(out, " ", 1);
		}
	}
	if (server_id > 0)
		strbuf_printf(out, "%s%" PRId64 " ", QUERY_TAG_SERVER, server_id);
	strbuf_adds(out, "");
}

/* ---- the Server header dictionary ---- */

static uint64_t sq_str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	return h;
}

static void sq_server_cache_clear(struct sq *q)
{
	for (size_t i = 0; i < SQ_SERVER_CACHE; i++) {
		free(q->srv_cache[i].text);
		q->srv_cache[i].text = NULL;
	}
}

/* The servers id of a Server header value (added when new; inside the
 * caller's transaction), or -1. */
static int64_t sq_server_id(struct sq *q, const char *text)
{
	struct sq_server_slot *slot = &q->srv_cache[sq_str_hash(text) % SQ_SERVER_CACHE];
	if (slot->text && strcmp(slot->text, text) == 0)
		return slot->id;
	int64_t id = -1;
	sqlite3_bind_text(q->sel_server, 1, text, -1, SQLITE_STATIC);
	if (sqlite3_step(q->sel_server) == SQLITE_ROW)
		id = sqlite3_column_int64(q->sel_server, 0);
	sqlite3_reset(q->sel_server);
	if (id < 0) {
		sqlite3_bind_text(q->ins_server, 1, text, -1, SQLITE_STATIC);
		if (sqlite3_step(q->ins_server) == SQLITE_DONE)
			id = sqlite3_last_insert_rowid(q->db);
		sqlite3_reset(q->ins_server);
	}
	if (id >= 0) {
		free(slot->text);
		slot->text = xstrdup(text);
		slot->id = id;
	}
	return id;
}

/* The tagged values among a record's column values. */
static void sq_tag_values(const struct store_value *v, struct store_value *tv)
{
	static int col[SQ_NTAGS] = {-1};
	if (col[0] < 0)
		for (size_t i = 0; i < SQ_NTAGS; i++)
			col[i] = sq_col(sq_tag_columns[i]);
	for (size_t i = 0; i < SQ_NTAGS; i++)
		tv[i] = v[col[i]];
}

/* The tagged values of a stored row: columns first..first+SQ_NTAGS of st. */
static void sq_tag_values_row(sqlite3_stmt *st, int first, struct store_value *tv)
{
	for (size_t i = 0; i < SQ_NTAGS; i++) {
		int c = first + (int)i;
		switch (sqlite3_column_type(st, c)) {
		case SQLITE_INTEGER:
			tv[i] = (struct store_value){.type = SV_INT, .i = sqlite3_column_int64(st, c)};
			break;
		case SQLITE_NULL:
			tv[i] = (struct store_value){.type = SV_NULL};
			break;
		default:
			tv[i] = (struct store_value){.type = SV_TEXT, .s = (const char *)sqlite3_column_text(st, c)};
		}
	}
}

/* Tag every stored service (the migration to schema 2). */
static int sq_tags_fill(struct sq *q, char *err, size_t errlen)
{
	sqlite3_stmt *sel, *ins;
	if (sqlite3_prepare_v2(q->db, "SELECT id, port, product, verdict, country, asn, http_favicon_hash, has_tls,"
			       " compromised, http_server FROM services", -1, &sel, NULL) != SQLITE_OK)
		return sq_fail(q, err, errlen, "upgrading the database");
	if (sqlite3_prepare_v2(q->db, "INSERT INTO services_tags(rowid, tags) VALUES(?,?)", -1, &ins, NULL) != SQLITE_OK) {
		sqlite3_finalize(sel);
		return sq_fail(q, err, errlen, "upgrading the database");
	}
	if (sqlite3_prepare_v2(q->db, "SELECT id FROM servers WHERE text = ?", -1, &q->sel_server, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(q->db, "INSERT INTO servers(text) VALUES(?)", -1, &q->ins_server, NULL) != SQLITE_OK) {
		sqlite3_finalize(sel);
		sqlite3_finalize(ins);
		return sq_fail(q, err, errlen, "upgrading the database");
	}
	struct strbuf text;
	strbuf_init(&text);
	int rc = 0;
	while (rc == 0 && sqlite3_step(sel) == SQLITE_ROW) {
		struct store_value tv[SQ_NTAGS];
		sq_tag_values_row(sel, 1, tv);
		const char *server = (const char *)sqlite3_column_text(sel, 9);
		int64_t sid = server ? sq_server_id(q, server) : 0;
		if (sid < 0) {
			rc = sq_fail(q, err, errlen, "upgrading the database");
			break;
		}
		sq_tags_text(&text, tv, sid);
		sqlite3_bind_int64(ins, 1, sqlite3_column_int64(sel, 0));
		sqlite3_bind_text(ins, 2, text.data, -1, SQLITE_STATIC);
		if (sqlite3_step(ins) != SQLITE_DONE)
			rc = sq_fail(q, err, errlen, "upgrading the database");
		sqlite3_reset(ins);
	}
	strbuf_free(&text);
	sqlite3_finalize(sel);
	sqlite3_finalize(ins);
	/* sq_open prepares its own */
	sqlite3_finalize(q->sel_server);
	sqlite3_finalize(q->ins_server);
	q->sel_server = q->ins_server = NULL;
	sq_server_cache_clear(q);
	return rc;
}

/* Recount facet_counts of one scan (0: every scan) from the rows. */
static int sq_facets_rebuild(struct sq *q, int64_t scan_id, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(q->db, "DELETE FROM facet_counts WHERE ?1 = 0 OR scan_id = ?1", -1, &st, NULL) != SQLITE_OK)
		return sq_fail(q, err, errlen, "counting facets");
	sqlite3_bind_int64(st, 1, scan_id);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sq_fail(q, err, errlen, "counting facets");
	for (size_t i = 0; i < sq_mat_nfacets; i++) {
		char sql[512];
		const char *col = sq_mat_facets[i].column;
		if (col)
			snprintf(sql, sizeof(sql),
				 "INSERT INTO facet_counts(scan_id, facet, value, n) SELECT scan_id, ?2, %s, count(*)"
				 " FROM services WHERE %s IS NOT NULL AND (?1 = 0 OR scan_id = ?1) GROUP BY scan_id, %s",
				 col, col, col);
		else
			snprintf(sql, sizeof(sql),
				 "INSERT INTO facet_counts(scan_id, facet, value, n) SELECT s.scan_id, ?2, upper(v.cve), count(*)"
				 " FROM vulns v JOIN services s ON s.id = v.service_id WHERE ?1 = 0 OR s.scan_id = ?1"
				 " GROUP BY s.scan_id, upper(v.cve)");
		if (sqlite3_prepare_v2(q->db, sql, -1, &st, NULL) != SQLITE_OK)
			return sq_fail(q, err, errlen, "counting facets");
		sqlite3_bind_int64(st, 1, scan_id);
		sqlite3_bind_text(st, 2, sq_mat_facets[i].name, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return sq_fail(q, err, errlen, "counting facets");
	}
	return 0;
}

static int sq_open(struct store *s, const char *uri, char *err, size_t errlen)
{
	struct sq *q = xcalloc(1, sizeof(*q));
	s->impl = q;
	/* one thread at a time uses the connection (the writer thread only
	 * while add() feeds it): no per-call locking */
	if (sqlite3_open_v2(uri, &q->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		snprintf(err, errlen, "cannot open database %s: %s", uri, q->db ? sqlite3_errmsg(q->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(q->db, 10000);
	sqlite3_extended_result_codes(q->db, 1);
	/* check the header before touching anything: a non-database file */
	/* the page cache stays small for queries (a fresh process per query:
	 * a big cache or mmap only adds page faults); writers grow it */
	/* 16 KiB pages for a new file (an existing one keeps its own): a third
	 * fewer B-tree pages to split and write while indexing, same query
	 * times (bench/RESULTS.md) */
	if (sq_exec(q, "PRAGMA page_size=16384; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
			   " PRAGMA temp_store=MEMORY; PRAGMA wal_autocheckpoint=10000;"
			   " PRAGMA analysis_limit=1000;", err, errlen) < 0) {
		snprintf(err, errlen, "%s is not a vigil database (or is damaged): %s", uri, sqlite3_errmsg(q->db));
		goto fail;
	}
	int v = sq_schema_version(q);
	if (v > SQ_SCHEMA_LATEST) {
		snprintf(err, errlen, "database %s has schema version %d, newer than this vigil supports (%d): upgrade vigil",
			 uri, v, SQ_SCHEMA_LATEST);
		goto fail;
	}
	if (v < SQ_SCHEMA_LATEST) {
		if (v == 0) {
			/* an empty file, or somebody else's database? */
			sqlite3_stmt *st;
			int tables = 0;
			if (sqlite3_prepare_v2(q->db, "SELECT count(*) FROM sqlite_master", -1, &st, NULL) == SQLITE_OK) {
				if (sqlite3_step(st) == SQLITE_ROW)
					tables = sqlite3_column_int(st, 0);
				sqlite3_finalize(st);
			} else {
				snprintf(err, errlen, "%s is not a vigil database: %s", uri, sqlite3_errmsg(q->db));
				goto fail;
			}
			if (tables > 0) {
				snprintf(err, errlen, "%s is an SQLite database but not vigil's: use another --db file", uri);
				goto fail;
			}
		}
		if (sq_exec(q, "BEGIN IMMEDIATE", err, errlen) < 0)
			goto fail;
		for (int i = v; i < SQ_SCHEMA_LATEST; i++)
			if (sq_exec(q, sqlite_migrations[i], err, errlen) < 0 ||
			    (i == 1 && (sq_tags_fill(q, err, errlen) < 0 || sq_facets_rebuild(q, 0, err, errlen) < 0))) {
				char e2[64];
				sq_exec(q, "ROLLBACK", e2, sizeof(e2));
				goto fail;
			}
		char sql[128];
		snprintf(sql, sizeof(sql), "INSERT OR REPLACE INTO meta VALUES('schema_version','%d'); COMMIT;", SQ_SCHEMA_LATEST);
		if (sq_exec(q, sql, err, errlen) < 0)
			goto fail;
	}
	for (int i = 0; i < STORE_NCOLS; i++)
		q->kept[i] = sq_column_kept(store_columns[i]);
	for (size_t f = 0; f < sq_mat_nfacets; f++)
		q->fd_col[f] = sq_mat_facets[f].column ? sq_col(sq_mat_facets[f].column) : -1;
	struct strbuf sql;
	strbuf_init(&sql);
	/* the kept columns; ?N is the column's index + 2 (?1: scan_id) */
	strbuf_adds(&sql, "INSERT OR IGNORE INTO services(scan_id");
	for (int i = 0; i < STORE_NCOLS; i++)
		if (sq_column_kept(store_columns[i]))
			strbuf_printf(&sql, ",%s", store_columns[i]);
	strbuf_adds(&sql, ") VALUES(?1");
	for (int i = 0; i < STORE_NCOLS; i++)
		if (sq_column_kept(store_columns[i]))
			strbuf_printf(&sql, ",?%d", i + 2);
	strbuf_adds(&sql, ")");
	int rc = sqlite3_prepare_v3(q->db, sql.data, -1, SQLITE_PREPARE_PERSISTENT, &q->ins_service, NULL);
	strbuf_free(&sql);
	if (rc != SQLITE_OK ||
	    sqlite3_prepare_v3(q->db, "INSERT INTO records(id, record) VALUES(?,?)", -1, SQLITE_PREPARE_PERSISTENT,
			       &q->ins_record, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(q->db, "INSERT INTO services_fts(rowid, banner, http_title, headers) VALUES(?,?,?,?)", -1,
			       SQLITE_PREPARE_PERSISTENT, &q->ins_fts, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(q->db, "SELECT id FROM servers WHERE text = ?", -1, SQLITE_PREPARE_PERSISTENT,
			       &q->sel_server, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(q->db, "INSERT INTO servers(text) VALUES(?)", -1, SQLITE_PREPARE_PERSISTENT,
			       &q->ins_server, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(q->db, "INSERT INTO services_tri(rowid, http_title) VALUES(?,?)", -1,
			       SQLITE_PREPARE_PERSISTENT, &q->ins_tri, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(q->db, "INSERT INTO services_tags(rowid, tags) VALUES(?,?)", -1,
			       SQLITE_PREPARE_PERSISTENT, &q->ins_tags, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(q->db, "INSERT INTO facet_counts(scan_id, facet, value, n) VALUES(?,?,?,?)"
			       " ON CONFLICT(scan_id, facet, value) DO UPDATE SET n = n + excluded.n", -1,
			       SQLITE_PREPARE_PERSISTENT, &q->ins_facet, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(q->db, "INSERT INTO vulns(service_id, cve) VALUES(?,?)", -1, SQLITE_PREPARE_PERSISTENT,
			       &q->ins_vuln, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(q->db, "INSERT INTO findings(service_id, check_name, verdict, cves, evidence) VALUES(?,?,?,?,?)",
			       -1, SQLITE_PREPARE_PERSISTENT, &q->ins_finding, NULL) != SQLITE_OK) {
		sq_fail(q, err, errlen, "preparing statements");
		goto fail;
	}
	store_row_buf_init(&q->buf);
	strbuf_init(&q->tags);
	strbuf_init(&q->wtags);
	strbuf_init(&q->row.arena);
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->nonempty, NULL);
	pthread_cond_init(&q->nonfull, NULL);
	pthread_cond_init(&q->ck_cond, NULL);
	q->path = xstrdup(uri);
	return 0;
fail:
	sqlite3_finalize(q->ins_service);
	sqlite3_finalize(q->ins_facet);
	sqlite3_finalize(q->ins_tags);
	sqlite3_finalize(q->sel_server);
	sqlite3_finalize(q->ins_server);
	sqlite3_finalize(q->ins_fts);
	sqlite3_finalize(q->ins_record);
	sqlite3_finalize(q->ins_tri);
	sqlite3_finalize(q->ins_vuln);
	sqlite3_finalize(q->ins_finding);
	sqlite3_close(q->db);
	free(q);
	s->impl = NULL;
	return -1;
}

static int sq_scan_begin(struct store *s, const struct store_scan_info *info, int64_t *scan_id, char *err, size_t errlen)
{
	struct sq *q = s->impl;
	sqlite3_stmt *st;
	/* a writer: a page cache that holds the indexes' hot pages */
	sqlite3_exec(q->db, "PRAGMA cache_size=-65536", NULL, NULL, NULL);
	if (sqlite3_prepare_v2(q->db, "INSERT INTO scans(name, started, targets, ports, options, source) VALUES(?,?,?,?,?,?)",
			       -1, &st, NULL) != SQLITE_OK)
		return sq_fail(q, err, errlen, "creating the scan");
	char name[64];
	time_t now = time(NULL);
	if (!info->name) {
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(name, sizeof(name), "scan-%Y%m%d-%H%M%S", &tm);
	}
	sqlite3_bind_text(st, 1, info->name ? info->name : name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_text(st, 3, info->targets, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, info->ports, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, info->options, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 6, info->source, -1, SQLITE_TRANSIENT);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sq_fail(q, err, errlen, "creating the scan");
	*scan_id = sqlite3_last_insert_rowid(q->db);
	return 0;
}

/* ---- facet deltas: counted in memory per batch, added at its commit ---- */

static uint64_t fd_hash(int64_t scan_id, int facet, bool is_int, int64_t i, const char *str)
{
	uint64_t h = 1469598103934665603ull;
	h = (h ^ (uint64_t)scan_id) * 1099511628211ull;
	h = (h ^ (uint64_t)facet) * 1099511628211ull;
	if (is_int)
		h = (h ^ (uint64_t)i) * 1099511628211ull;
	else
		for (const unsigned char *p = (const unsigned char *)str; *p; p++)
			h = (h ^ *p) * 1099511628211ull;
	return h | 1;  /* 0 marks an empty slot */
}

static void fd_add(struct sq *q, int64_t scan_id, int facet, bool is_int, int64_t i, const char *str)
{
	if ((q->fd_used + 1) * 2 > q->fd_cap) {
		size_t ncap = q->fd_cap ? q->fd_cap * 2 : 1024;
		struct sq_fdelta *n = xcalloc(ncap, sizeof(*n));
		for (size_t k = 0; k < q->fd_cap; k++) {
			if (!q->fd[k].hash)
				continue;
			size_t j = q->fd[k].hash & (ncap - 1);
			while (n[j].hash)
				j = (j + 1) & (ncap - 1);
			n[j] = q->fd[k];
		}
		free(q->fd);
		q->fd = n;
		q->fd_cap = ncap;
	}
	uint64_t h = fd_hash(scan_id, facet, is_int, i, str);
	size_t j = h & (q->fd_cap - 1);
	for (;; j = (j + 1) & (q->fd_cap - 1)) {
		struct sq_fdelta *d = &q->fd[j];
		if (!d->hash) {
			*d = (struct sq_fdelta){.scan_id = scan_id, .facet = facet, .is_int = is_int, .i = i,
						.s = is_int ? NULL : xstrdup(str), .n = 1, .hash = h};
			q->fd_used++;
			return;
		}
		if (d->hash == h && d->scan_id == scan_id && d->facet == facet && d->is_int == is_int &&
		    (is_int ? d->i == i : strcmp(d->s, str) == 0)) {
			d->n++;
			return;
		}
	}
}

static void fd_clear(struct sq *q)
{
	for (size_t k = 0; k < q->fd_cap; k++)
		free(q->fd[k].s);
	if (q->fd_cap)
		memset(q->fd, 0, q->fd_cap * sizeof(*q->fd));
	q->fd_used = 0;
}

/* Count one stored service in its scan's facets. */
static void fd_count(struct sq *q, int64_t scan_id, const struct store_value *v, const char *vulns, size_t nvulns)
{
	for (size_t f = 0; f < sq_mat_nfacets; f++) {
		const char *col = sq_mat_facets[f].column;
		if (!col) {
			char cve[64];
			const char *p = vulns;
			for (size_t k = 0; k < nvulns; k++, p += strlen(p) + 1) {
				size_t n = 0;
				for (const char *c = p; *c && n < sizeof(cve) - 1; c++)
					cve[n++] = *c >= 'a' && *c <= 'z' ? (char)(*c - 32) : *c;
				cve[n] = '\0';
				fd_add(q, scan_id, (int)f, false, 0, cve);
			}
			continue;
		}
		int c = q->fd_col[f];
		if (v[c].type == SV_INT)
			fd_add(q, scan_id, (int)f, true, v[c].i, NULL);
		else if (v[c].type == SV_TEXT)
			fd_add(q, scan_id, (int)f, false, 0, v[c].s);
	}
}

static int fd_write(struct sq *q, char *err, size_t errlen)
{
	for (size_t k = 0; k < q->fd_cap; k++) {
		const struct sq_fdelta *d = &q->fd[k];
		if (!d->hash)
			continue;
		sqlite3_bind_int64(q->ins_facet, 1, d->scan_id);
		sqlite3_bind_text(q->ins_facet, 2, sq_mat_facets[d->facet].name, -1, SQLITE_STATIC);
		if (d->is_int)
			sqlite3_bind_int64(q->ins_facet, 3, d->i);
		else
			sqlite3_bind_text(q->ins_facet, 3, d->s, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q->ins_facet, 4, d->n);
		int rc = sqlite3_step(q->ins_facet);
		sqlite3_reset(q->ins_facet);
		if (rc != SQLITE_DONE)
			return sq_fail(q, err, errlen, "saving results");
	}
	fd_clear(q);
	return 0;
}

static int sq_commit(struct sq *q, char *err, size_t errlen)
{
	if (!q->in_tx)
		return 0;
	q->in_tx = 0;
	q->batch = 0;
	if (fd_write(q, err, errlen) < 0) {
		fd_clear(q);
		sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
		sq_server_cache_clear(q);
		return -1;
	}
	if (sqlite3_exec(q->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		sq_fail(q, err, errlen, "saving results");
		sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
		sq_server_cache_clear(q);  /* its new ids are gone */
		return -1;
	}
	return 0;
}

/* Stop the writer thread (if any) and commit the open batch. */
static int sq_flush(struct store *s, char *err, size_t errlen)
{
	struct sq *q = s->impl;
	int rc = sq_sync(q, err, errlen);
	char e2[STORE_ERR_LEN];
	if (sq_commit(q, rc < 0 ? e2 : err, rc < 0 ? sizeof(e2) : errlen) < 0)
		rc = -1;
	return rc;
}

static void sq_bind(sqlite3_stmt *st, int idx, const struct store_value *v)
{
	if (v->type == SV_INT)
		sqlite3_bind_int64(st, idx, v->i);
	else if (v->type == SV_TEXT)
		sqlite3_bind_text(st, idx, v->s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, idx);
}

static int sq_step(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : rc;
}

/* ---- rows: prepared from a record (any thread), written by one ---- */

/* Append a NUL-terminated copy of s to the arena; its offset. */
static size_t arena_put(struct strbuf *a, const char *s)
{
	size_t off = a->len;
	strbuf_add(a, s, strlen(s) + 1);
	return off;
}

static void sq_row_build(struct sq *q, struct sq_row *r, int64_t scan_id, const struct service_record *rec)
{
	size_t off[STORE_NCOLS], tags_off, vulns_off, verdict_off = 0, cves_off = 0, ev_off = 0;
	r->scan_id = scan_id;
	strbuf_reset(&r->arena);
	store_record_values(rec, &q->buf, r->v);
	for (int i = 0; i < STORE_NCOLS; i++)
		off[i] = r->v[i].type == SV_TEXT ? arena_put(&r->arena, r->v[i].s) : 0;
	struct store_value tv[SQ_NTAGS];
	sq_tag_values(r->v, tv);
	sq_tags_text(&q->tags, tv, 0);  /* the writer adds the server's tag */
	tags_off = arena_put(&r->arena, q->tags.data);
	vulns_off = r->arena.len;
	r->nvulns = rec->vulns.n;
	for (size_t i = 0; i < rec->vulns.n; i++)
		arena_put(&r->arena, rec->vulns.v[i]);
	r->finding = rec->has_toolshell;
	if (r->finding) {
		struct strbuf cves, ev;
		store_finding_text(rec, &cves, &ev);
		verdict_off = arena_put(&r->arena, rec->verdict ? rec->verdict : "");
		cves_off = arena_put(&r->arena, cves.data ? cves.data : "");
		ev_off = arena_put(&r->arena, ev.data ? ev.data : "");
		strbuf_free(&cves);
		strbuf_free(&ev);
	}
	/* the arena is complete: pointers into it are stable now */
	const char *base = r->arena.data;
	for (int i = 0; i < STORE_NCOLS; i++)
		if (r->v[i].type == SV_TEXT)
			r->v[i].s = base + off[i];
	r->tags = base + tags_off;
	r->vulns = base + vulns_off;
	r->verdict = rec->has_toolshell && rec->verdict ? base + verdict_off : NULL;
	r->cves = base + cves_off;
	r->evidence = base + ev_off;
}

static int sq_row_write(struct sq *q, const struct sq_row *r, char *err, size_t errlen)
{
	if (!q->in_tx) {
		if (sqlite3_exec(q->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
			return sq_fail(q, err, errlen, "saving results");
		q->in_tx = 1;
	}
	const struct store_value *v = r->v;
	sqlite3_bind_int64(q->ins_service, 1, r->scan_id);
	for (int i = 0; i < STORE_NCOLS; i++)
		if (q->kept[i])
			sq_bind(q->ins_service, i + 2, &v[i]);
	if (sq_step(q->ins_service) != 0)
		goto fail;
	if (sqlite3_changes(q->db) == 0)
		return 0;  /* already stored (a resumed scan's overlap) */
	int64_t id = sqlite3_last_insert_rowid(q->db);
	fd_count(q, r->scan_id, v, r->vulns, r->nvulns);
	const char *tags = r->tags;
	if (v[6].type == SV_TEXT) {
		int64_t sid = sq_server_id(q, v[6].s);  /* http_server */
		if (sid < 0)
			goto fail;
		strbuf_reset(&q->wtags);
		strbuf_printf(&q->wtags, "%s%s%" PRId64, r->tags, QUERY_TAG_SERVER, sid);
		tags = q->wtags.data;
	}
	sqlite3_bind_int64(q->ins_tags, 1, id);
	sqlite3_bind_text(q->ins_tags, 2, tags, -1, SQLITE_STATIC);
	if (sq_step(q->ins_tags) != 0)
		goto fail;
	sqlite3_bind_int64(q->ins_record, 1, id);
	sq_bind(q->ins_record, 2, &v[STORE_NCOLS - 1]);
	if (sq_step(q->ins_record) != 0)
		goto fail;
	sqlite3_bind_int64(q->ins_fts, 1, id);
	sq_bind(q->ins_fts, 2, &v[20]);  /* banner */
	sq_bind(q->ins_fts, 3, &v[5]);   /* http_title */
	sq_bind(q->ins_fts, 4, &v[11]);  /* headers */
	if (sq_step(q->ins_fts) != 0)
		goto fail;
	if (v[5].type == SV_TEXT) {
		sqlite3_bind_int64(q->ins_tri, 1, id);
		sq_bind(q->ins_tri, 2, &v[5]);  /* http_title */
		if (sq_step(q->ins_tri) != 0)
			goto fail;
	}
	const char *cve = r->vulns;
	for (size_t i = 0; i < r->nvulns; i++, cve += strlen(cve) + 1) {
		sqlite3_bind_int64(q->ins_vuln, 1, id);
		sqlite3_bind_text(q->ins_vuln, 2, cve, -1, SQLITE_STATIC);
		if (sq_step(q->ins_vuln) != 0)
			goto fail;
	}
	if (r->finding) {
		sqlite3_bind_int64(q->ins_finding, 1, id);
		sqlite3_bind_text(q->ins_finding, 2, "toolshell", -1, SQLITE_STATIC);
		sqlite3_bind_text(q->ins_finding, 3, r->verdict, -1, SQLITE_STATIC);
		sqlite3_bind_text(q->ins_finding, 4, r->cves, -1, SQLITE_STATIC);
		sqlite3_bind_text(q->ins_finding, 5, r->evidence, -1, SQLITE_STATIC);
		if (sq_step(q->ins_finding) != 0)
			goto fail;
	}
	if (q->batch == 0)
		q->batch_started = time_mono();
	/* commit every SQLITE_BATCH records, and at least once a second so a
	 * slow scan's results are not held in an open transaction */
	if (++q->batch >= SQLITE_BATCH || time_mono() - q->batch_started >= 1.0)
		return sq_commit(q, err, errlen);
	return 0;
fail:
	sq_fail(q, err, errlen, "saving results");
	return -1;
}

/* ---- the writer thread (pipeline mode, bulk imports) ---------------------
 * The caller's add() prepares rows (parsing, JSON, tags: no database) into
 * a ring; one writer thread owns the connection and writes them. Every
 * other entry point first stops the writer (sq_sync), so the connection is
 * never used by two threads. */

static void *sq_writer(void *arg)
{
	struct sq *q = arg;
	pthread_mutex_lock(&q->mu);
	for (;;) {
		while (q->qcount == 0 && !q->stop) {
			if (q->in_tx) {
				/* an open batch is committed after a second without rows */
				struct timespec ts;
				clock_gettime(CLOCK_REALTIME, &ts);
				ts.tv_sec += 1;
				q->cons_waiting = true;
				int tw = pthread_cond_timedwait(&q->nonempty, &q->mu, &ts);
				q->cons_waiting = false;
				if (tw != 0 && q->qcount == 0 && !q->werr) {
					pthread_mutex_unlock(&q->mu);
					char e[STORE_ERR_LEN];
					int rc = sq_commit(q, e, sizeof(e));
					pthread_mutex_lock(&q->mu);
					if (rc < 0 && !q->werr) {
						q->werr = true;
						snprintf(q->werrmsg, sizeof(q->werrmsg), "%s", e);
					}
				}
			} else {
				q->cons_waiting = true;
				pthread_cond_wait(&q->nonempty, &q->mu);
				q->cons_waiting = false;
			}
		}
		if (q->qcount == 0)
			break;
		struct sq_row *r = &q->ring[q->qhead];
		bool skip = q->werr;
		pthread_mutex_unlock(&q->mu);
		char e[STORE_ERR_LEN];
		int rc = skip ? 0 : sq_row_write(q, r, e, sizeof(e));
		pthread_mutex_lock(&q->mu);
		if (rc < 0 && !q->werr) {
			q->werr = true;
			snprintf(q->werrmsg, sizeof(q->werrmsg), "%s", e);
		}
		q->qhead = (q->qhead + 1) % SQ_QUEUE;
		q->qcount--;
		/* wake a waiting producer only once half the ring is free: one
		 * wake-up per many rows, not a system call each */
		if (q->prod_waiting && (q->qcount <= SQ_QUEUE / 2 || q->werr))
			pthread_cond_signal(&q->nonfull);
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

/* While the writer runs, this thread checkpoints the WAL often (copies
 * committed pages into the database file and syncs both, on its own
 * connection), so that when the writer's own automatic checkpoint comes
 * (every 10000 pages, which also rewinds the WAL) the pages are already
 * on disk and it hardly waits. Durability is unchanged
 * (synchronous=NORMAL: synced at each checkpoint). */
static void *sq_checkpointer(void *arg)
{
	struct sq *q = arg;
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(q->path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return NULL;
	}
	pthread_mutex_lock(&q->mu);
	while (!q->ck_stop) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&q->ck_cond, &q->mu, &ts);
		if (q->ck_stop)
			break;
		pthread_mutex_unlock(&q->mu);
		int frames = 0, done = 0;
		sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE, &frames, &done);
		pthread_mutex_lock(&q->mu);
	}
	pthread_mutex_unlock(&q->mu);
	sqlite3_close(db);
	return NULL;
}

/* Stop the writer after it wrote every queued row; its error, if any. */
int sq_sync(struct sq *q, char *err, size_t errlen)
{
	if (!q->writer_on)
		return 0;
	pthread_mutex_lock(&q->mu);
	q->stop = true;
	q->ck_stop = true;
	pthread_cond_signal(&q->nonempty);
	pthread_cond_signal(&q->ck_cond);
	pthread_mutex_unlock(&q->mu);
	pthread_join(q->writer, NULL);
	if (q->ck_on)
		pthread_join(q->checkpointer, NULL);
	q->ck_on = false;
	q->writer_on = false;
	q->stop = false;
	q->ck_stop = false;
	if (q->werr) {
		q->werr = false;
		snprintf(err, errlen, "%s", q->werrmsg);
		return -1;
	}
	return 0;
}

static void sq_pipeline(struct store *s, bool on)
{
	struct sq *q = s->impl;
	char err[STORE_ERR_LEN];
	if (!on)
		sq_sync(q, err, sizeof(err));
	q->pipeline = on;
}

static int sq_add(struct store *s, int64_t scan_id, const struct service_record *rec, char *err, size_t errlen)
{
	struct sq *q = s->impl;
	if (!q->pipeline) {
		sq_row_build(q, &q->row, scan_id, rec);
		return sq_row_write(q, &q->row, err, errlen);
	}
	if (!q->writer_on) {
		if (!q->ring)
			q->ring = xcalloc(SQ_QUEUE, sizeof(*q->ring));
		q->qhead = q->qcount = 0;
		if (pthread_create(&q->writer, NULL, sq_writer, q) != 0) {
			q->pipeline = false;
			return sq_add(s, scan_id, rec, err, errlen);
		}
		q->writer_on = true;
		q->ck_on = pthread_create(&q->checkpointer, NULL, sq_checkpointer, q) == 0;
	}
	pthread_mutex_lock(&q->mu);
	while (q->qcount == SQ_QUEUE && !q->werr) {
		q->prod_waiting = true;
		pthread_cond_wait(&q->nonfull, &q->mu);
		q->prod_waiting = false;
	}
	bool failed = q->werr;
	size_t slot = (q->qhead + q->qcount) % SQ_QUEUE;
	pthread_mutex_unlock(&q->mu);
	if (failed)
		return sq_sync(q, err, errlen);
	/* the slot is free until qcount counts it */
	sq_row_build(q, &q->ring[slot], scan_id, rec);
	pthread_mutex_lock(&q->mu);
	q->qcount++;
	if (q->cons_waiting)
		pthread_cond_signal(&q->nonempty);
	pthread_mutex_unlock(&q->mu);
	return 0;
}

static int sq_scan_end(struct store *s, int64_t scan_id, bool finished, char *err, size_t errlen)
{
	struct sq *q = s->impl;
	if (sq_flush(s, err, errlen) < 0)
		return -1;
	/* fresh planner statistics for the new rows (bounded by analysis_limit) */
	sqlite3_exec(q->db, "ANALYZE", NULL, NULL, NULL);
	if (!finished)
		return 0;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(q->db, "UPDATE scans SET finished=? WHERE id=?", -1, &st, NULL) != SQLITE_OK)
		return sq_fail(q, err, errlen, "finishing the scan");
	sqlite3_bind_int64(st, 1, time(NULL));
	sqlite3_bind_int64(st, 2, scan_id);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : sq_fail(q, err, errlen, "finishing the scan");
}

static int sq_scans(struct store *s, store_scan_fn *fn, void *arg, char *err, size_t errlen)
{
	struct sq *q = s->impl;
	if (sq_sync(q, err, errlen) < 0)
		return -1;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(q->db,
			       "SELECT id, name, started, coalesce(finished, 0), source,"
			       " (SELECT coalesce(sum(n), 0) FROM facet_counts WHERE scan_id = scans.id AND facet = 'port')"
			       " FROM scans ORDER BY id DESC",
			       -1, &st, NULL) != SQLITE_OK)
		return sq_fail(q, err, errlen, "listing scans");
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct store_scan_row row = {
			.id = sqlite3_column_int64(st, 0),
			.name = (const char *)sqlite3_column_text(st, 1),
			.started = sqlite3_column_int64(st, 2),
			.finished = sqlite3_column_int64(st, 3),
			.source = (const char *)sqlite3_column_text(st, 4),
			.services = sqlite3_column_int64(st, 5),
		};
		if (fn(arg, &row) != 0)
			break;
	}
	sqlite3_finalize(st);
	return 0;
}

/* Re-run fn over stored records (enrichment): parse each record, let fn
 * change it, write back the record JSON and the enrichment columns. */
static int sq_rewrite(struct store *s, int64_t scan_id, void (*fn)(void *arg, struct service_record *rec), void *arg,
		      int64_t *changed, char *err, size_t errlen)
{
	struct sq *q = s->impl;
	if (sq_flush(s, err, errlen) < 0)
		return -1;
	sqlite3_stmt *sel, *upd, *upd_rec = NULL, *tag_del = NULL;
	if (sqlite3_prepare_v2(q->db, "SELECT services.id, records.record, port, product, verdict, country, asn,"
			       " http_favicon_hash, has_tls, compromised, (SELECT id FROM servers WHERE text = services.http_server)"
			       " FROM services JOIN records ON records.id = services.id"
			       " WHERE ?1 = 0 OR services.scan_id = ?1", -1, &sel, NULL) !=
	    SQLITE_OK)
		return sq_fail(q, err, errlen, "enrich");
	if (sqlite3_prepare_v2(q->db, "UPDATE services SET country = ?1, asn = ?2, org = ?3 WHERE id = ?5", -1, &upd,
			       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(q->db, "UPDATE records SET record = ?4 WHERE id = ?5", -1, &upd_rec, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(q->db, "INSERT INTO services_tags(services_tags, rowid, tags) VALUES('delete', ?, ?)", -1,
			       &tag_del, NULL) != SQLITE_OK) {
		sqlite3_finalize(sel);
		sqlite3_finalize(upd);
		sqlite3_finalize(upd_rec);
		return sq_fail(q, err, errlen, "enrich");
	}
	struct strbuf old_tags;
	strbuf_init(&old_tags);
	sqlite3_bind_int64(sel, 1, scan_id);
	sqlite3_exec(q->db, "PRAGMA cache_size=-65536; BEGIN", NULL, NULL, NULL);
	*changed = 0;
	struct strbuf json;
	strbuf_init(&json);
	int rc = 0;
	while (sqlite3_step(sel) == SQLITE_ROW) {
		const char *text = (const char *)sqlite3_column_text(sel, 1);
		struct service_record rec;
		char perr[160];
		if (!text || import_vigil_line(text, strlen(text), &rec, perr, sizeof(perr)) < 0)
			continue;
		fn(arg, &rec);
		strbuf_reset(&json);
		record_to_json(&rec, &json);
		if (json.len && json.data[json.len - 1] == '\n')
			json.data[--json.len] = '\0';
		sqlite3_bind_text(upd, 1, rec.country, -1, SQLITE_TRANSIENT);
		if (rec.asn)
			sqlite3_bind_int64(upd, 2, rec.asn);
		else
			sqlite3_bind_null(upd, 2);
		sqlite3_bind_text(upd, 3, rec.org, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(upd, 5, sqlite3_column_int64(sel, 0));
		sqlite3_bind_text(upd_rec, 4, json.data, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(upd_rec, 5, sqlite3_column_int64(sel, 0));
		/* country and asn are tagged: replace the row's tags when they change
		 * (a contentless table deletes given the old text) */
		struct store_value tv[SQ_NTAGS];
		sq_tag_values_row(sel, 2, tv);
		int64_t sid = sqlite3_column_int64(sel, 10);  /* 0 (NULL): no Server header */
		sq_tags_text(&old_tags, tv, sid);
		tv[3] = (struct store_value){.type = rec.country ? SV_TEXT : SV_NULL, .s = rec.country};
		tv[4] = rec.asn ? (struct store_value){.type = SV_INT, .i = rec.asn} : (struct store_value){.type = SV_NULL};
		sq_tags_text(&q->tags, tv, sid);
		bool retag = strcmp(old_tags.data, q->tags.data) != 0;
		int64_t id = sqlite3_column_int64(sel, 0);
		if (retag) {
			sqlite3_bind_int64(tag_del, 1, id);
			sqlite3_bind_text(tag_del, 2, old_tags.data, -1, SQLITE_STATIC);
			sqlite3_bind_int64(q->ins_tags, 1, id);
			sqlite3_bind_text(q->ins_tags, 2, q->tags.data, -1, SQLITE_STATIC);
		}
		int bad = sq_step(upd) != 0 || sq_step(upd_rec) != 0 || (retag && (sq_step(tag_del) != 0 || sq_step(q->ins_tags) != 0));
		record_free(&rec);
		if (bad) {
			rc = sq_fail(q, err, errlen, "enrich");
			break;
		}
		(*changed)++;
	}
	strbuf_free(&json);
	strbuf_free(&old_tags);
	sqlite3_finalize(sel);
	sqlite3_finalize(upd);
	sqlite3_finalize(upd_rec);
	sqlite3_finalize(tag_del);
	/* country, asn and org changed: recount the scan's facets */
	if (rc == 0)
		rc = sq_facets_rebuild(q, scan_id, err, errlen);
	if (sqlite3_exec(q->db, rc == 0 ? "COMMIT" : "ROLLBACK", NULL, NULL, NULL) != SQLITE_OK && rc == 0)
		rc = sq_fail(q, err, errlen, "enrich");
	return rc;
}

static void sq_close(struct store *s)
{
	struct sq *q = s->impl;
	if (!q)
		return;
	char err[STORE_ERR_LEN];
	sq_flush(s, err, sizeof(err));
	sqlite3_finalize(q->ins_service);
	sqlite3_finalize(q->ins_facet);
	sqlite3_finalize(q->ins_tags);
	sqlite3_finalize(q->sel_server);
	sqlite3_finalize(q->ins_server);
	sqlite3_finalize(q->ins_fts);
	sqlite3_finalize(q->ins_record);
	sqlite3_finalize(q->ins_tri);
	sqlite3_finalize(q->ins_vuln);
	sqlite3_finalize(q->ins_finding);
	sqlite3_close(q->db);
	store_row_buf_free(&q->buf);
	fd_clear(q);
	free(q->fd);
	strbuf_free(&q->tags);
	strbuf_free(&q->wtags);
	sq_server_cache_clear(q);
	strbuf_free(&q->row.arena);
	for (size_t i = 0; q->ring && i < SQ_QUEUE; i++)
		strbuf_free(&q->ring[i].arena);
	free(q->ring);
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->nonempty);
	pthread_cond_destroy(&q->nonfull);
	pthread_cond_destroy(&q->ck_cond);
	free(q->path);
	free(q);
	s->impl = NULL;
}

const struct store_backend store_backend_sqlite = {
	.name = "sqlite",
	.open = sq_open,
	.scan_begin = sq_scan_begin,
	.add = sq_add,
	.flush = sq_flush,
	.pipeline = sq_pipeline,
	.scan_end = sq_scan_end,
	.search = sq_search,
	.count = sq_count,
	.facets = sq_facets,
	.scans = sq_scans,
	.rewrite = sq_rewrite,
	.close = sq_close,
};
