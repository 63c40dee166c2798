/* store_sqlite.c - the SQLite backend (default): one file in WAL mode,
 * FTS5 over banners, titles and headers, batched transactions (a crash
 * loses at most the open batch and never leaves a half-written row),
 * schema versioning with migrations. */
#include <inttypes.h>
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
};
#define SQ_SCHEMA_LATEST (int)(sizeof(sqlite_migrations) / sizeof(sqlite_migrations[0]))

struct sq {
	sqlite3 *db;
	sqlite3_stmt *ins_service, *ins_record, *ins_fts, *ins_tri, *ins_vuln, *ins_finding;
	int in_tx;
	int batch;
	double batch_started;
	struct store_row_buf buf;
};

static int sq_fail(struct sq *q, char *err, size_t errlen, const char *what)
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

static int sq_open(struct store *s, const char *uri, char *err, size_t errlen)
{
	struct sq *q = xcalloc(1, sizeof(*q));
	s->impl = q;
	if (sqlite3_open_v2(uri, &q->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "cannot open database %s: %s", uri, q->db ? sqlite3_errmsg(q->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(q->db, 10000);
	sqlite3_extended_result_codes(q->db, 1);
	/* check the header before touching anything: a non-database file */
	if (sq_exec(q, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
			   " PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY; PRAGMA wal_autocheckpoint=10000;"
			   " PRAGMA analysis_limit=1000; PRAGMA mmap_size=4294967296;", err, errlen) < 0) {
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
			if (sq_exec(q, sqlite_migrations[i], err, errlen) < 0) {
				sq_exec(q, "ROLLBACK", err, errlen);
				goto fail;
			}
		char sql[128];
		snprintf(sql, sizeof(sql), "INSERT OR REPLACE INTO meta VALUES('schema_version','%d'); COMMIT;", SQ_SCHEMA_LATEST);
		if (sq_exec(q, sql, err, errlen) < 0)
			goto fail;
	}
	struct strbuf sql;
	strbuf_init(&sql);
	/* every column but the last (record), which goes to the records table */
	strbuf_adds(&sql, "INSERT OR IGNORE INTO services(scan_id");
	for (int i = 0; i < STORE_NCOLS - 1; i++)
		strbuf_printf(&sql, ",%s", store_columns[i]);
	strbuf_adds(&sql, ") VALUES(?");
	for (int i = 0; i < STORE_NCOLS - 1; i++)
		strbuf_adds(&sql, ",?");
	strbuf_adds(&sql, ")");
	int rc = sqlite3_prepare_v3(q->db, sql.data, -1, SQLITE_PREPARE_PERSISTENT, &q->ins_service, NULL);
	strbuf_free(&sql);
	if (rc != SQLITE_OK ||
	    sqlite3_prepare_v3(q->db, "INSERT INTO records(id, record) VALUES(?,?)", -1, SQLITE_PREPARE_PERSISTENT,
			       &q->ins_record, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(q->db, "INSERT INTO services_fts(rowid, banner, http_title, headers) VALUES(?,?,?,?)", -1,
			       SQLITE_PREPARE_PERSISTENT, &q->ins_fts, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(q->db, "INSERT INTO services_tri(rowid, http_title, http_server) VALUES(?,?,?)", -1,
			       SQLITE_PREPARE_PERSISTENT, &q->ins_tri, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(q->db, "INSERT INTO vulns(service_id, cve) VALUES(?,?)", -1, SQLITE_PREPARE_PERSISTENT,
			       &q->ins_vuln, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v3(q->db, "INSERT INTO findings(service_id, check_name, verdict, cves, evidence) VALUES(?,?,?,?,?)",
			       -1, SQLITE_PREPARE_PERSISTENT, &q->ins_finding, NULL) != SQLITE_OK) {
		sq_fail(q, err, errlen, "preparing statements");
		goto fail;
	}
	store_row_buf_init(&q->buf);
	return 0;
fail:
	sqlite3_finalize(q->ins_service);
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

static int sq_flush(struct store *s, char *err, size_t errlen)
{
	struct sq *q = s->impl;
	if (!q->in_tx)
		return 0;
	q->in_tx = 0;
	q->batch = 0;
	if (sqlite3_exec(q->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		sq_fail(q, err, errlen, "saving results");
		sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return 0;
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

static int sq_add(struct store *s, int64_t scan_id, const struct service_record *rec, char *err, size_t errlen)
{
	struct sq *q = s->impl;
	if (!q->in_tx) {
		if (sqlite3_exec(q->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
			return sq_fail(q, err, errlen, "saving results");
		q->in_tx = 1;
	}
	struct store_value v[STORE_NCOLS];
	store_record_values(rec, &q->buf, v);
	sqlite3_bind_int64(q->ins_service, 1, scan_id);
	for (int i = 0; i < STORE_NCOLS - 1; i++)
		sq_bind(q->ins_service, i + 2, &v[i]);
	if (sq_step(q->ins_service) != 0)
		goto fail;
	if (sqlite3_changes(q->db) == 0)
		return 0;  /* already stored (a resumed scan's overlap) */
	int64_t id = sqlite3_last_insert_rowid(q->db);
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
	if (v[5].type == SV_TEXT || v[6].type == SV_TEXT) {
		sqlite3_bind_int64(q->ins_tri, 1, id);
		sq_bind(q->ins_tri, 2, &v[5]);  /* http_title */
		sq_bind(q->ins_tri, 3, &v[6]);  /* http_server */
		if (sq_step(q->ins_tri) != 0)
			goto fail;
	}
	for (size_t i = 0; i < rec->vulns.n; i++) {
		sqlite3_bind_int64(q->ins_vuln, 1, id);
		sqlite3_bind_text(q->ins_vuln, 2, rec->vulns.v[i], -1, SQLITE_STATIC);
		if (sq_step(q->ins_vuln) != 0)
			goto fail;
	}
	if (rec->has_toolshell) {
		struct strbuf cves, ev;
		store_finding_text(rec, &cves, &ev);
		sqlite3_bind_int64(q->ins_finding, 1, id);
		sqlite3_bind_text(q->ins_finding, 2, "toolshell", -1, SQLITE_STATIC);
		sqlite3_bind_text(q->ins_finding, 3, rec->verdict, -1, SQLITE_STATIC);
		sqlite3_bind_text(q->ins_finding, 4, cves.data ? cves.data : "", -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(q->ins_finding, 5, ev.data ? ev.data : "", -1, SQLITE_TRANSIENT);
		int rc = sq_step(q->ins_finding);
		strbuf_free(&cves);
		strbuf_free(&ev);
		if (rc != 0)
			goto fail;
	}
	if (q->batch == 0)
		q->batch_started = time_mono();
	/* commit every SQLITE_BATCH records, and at least once a second so a
	 * slow scan's results are not held in an open transaction */
	if (++q->batch >= SQLITE_BATCH || time_mono() - q->batch_started >= 1.0)
		return sq_flush(s, err, errlen);
	return 0;
fail:
	sq_fail(q, err, errlen, "saving results");
	return -1;
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

/* Prepare "SELECT ... FROM services WHERE <query> <tail>" and bind. */
static sqlite3_stmt *sq_prepare_query(struct sq *q, const char *select, const char *query, const char *tail,
				      int *next_param, char *err, size_t errlen)
{
	struct query_sql qs;
	if (query_compile(query, &query_dialect_sqlite, &qs, err, errlen) < 0)
		return NULL;
	struct strbuf sql;
	strbuf_init(&sql);
	strbuf_printf(&sql, "%s WHERE %s %s", select, qs.where.data, tail ? tail : "");
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(q->db, sql.data, -1, &st, NULL) != SQLITE_OK) {
		sq_fail(q, err, errlen, "query");
		st = NULL;
	} else {
		for (size_t i = 0; i < qs.nparams; i++) {
			if (qs.params[i].is_int)
				sqlite3_bind_int64(st, (int)i + 1, qs.params[i].i);
			else
				sqlite3_bind_text(st, (int)i + 1, qs.params[i].s, -1, SQLITE_TRANSIENT);
		}
		*next_param = (int)qs.nparams + 1;
	}
	strbuf_free(&sql);
	query_sql_free(&qs);
	return st;
}

static int sq_search(struct store *s, const char *query, int64_t limit, int64_t offset, store_row_fn *fn, void *arg,
		     char *err, size_t errlen)
{
	struct sq *q = s->impl;
	int np;
	sqlite3_stmt *st = sq_prepare_query(q,
		"SELECT services.id, services.scan_id, (SELECT name FROM scans WHERE scans.id = services.scan_id),"
		" (SELECT record FROM records WHERE records.id = services.id), services.ip, services.port, services.ts,"
		" services.product, services.version,"
		" services.verdict, services.http_title FROM services", query, "ORDER BY services.ts DESC, services.id DESC LIMIT ? OFFSET ?",
		&np, err, errlen);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, np, limit);
	sqlite3_bind_int64(st, np + 1, offset);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_row row = {
			.service_id = sqlite3_column_int64(st, 0),
			.scan_id = sqlite3_column_int64(st, 1),
			.scan_name = (const char *)sqlite3_column_text(st, 2),
			.record = (const char *)sqlite3_column_text(st, 3),
			.ip = (uint32_t)sqlite3_column_int64(st, 4),
			.port = sqlite3_column_int(st, 5),
			.ts = sqlite3_column_int64(st, 6),
			.product = (const char *)sqlite3_column_text(st, 7),
			.version = (const char *)sqlite3_column_text(st, 8),
			.verdict = (const char *)sqlite3_column_text(st, 9),
			.title = (const char *)sqlite3_column_text(st, 10),
		};
		if (fn(arg, &row) != 0)
			break;
	}
	int ok = rc == SQLITE_ROW || rc == SQLITE_DONE;
	if (!ok)
		sq_fail(q, err, errlen, "query");
	sqlite3_finalize(st);
	return ok ? 0 : -1;
}

static int sq_count(struct store *s, const char *query, int64_t *n, char *err, size_t errlen)
{
	struct sq *q = s->impl;
	int np;
	sqlite3_stmt *st = sq_prepare_query(q, "SELECT count(*) FROM services", query, NULL, &np, err, errlen);
	if (!st)
		return -1;
	int rc = sqlite3_step(st);
	*n = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : sq_fail(q, err, errlen, "query");
}

static int sq_facets(struct store *s, const char *query, const char *facets, store_facet_fn *fn, void *arg, char *err,
		     size_t errlen)
{
	struct sq *q = s->impl;
	struct query_facet fs[16];
	size_t nf;
	if (query_parse_facets(facets, fs, 16, &nf, err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < nf; i++) {
		char select[512], tail[256];
		store_facet_sql(&fs[i], false, select, sizeof(select), tail, sizeof(tail));
		int np;
		sqlite3_stmt *st = sq_prepare_query(q, select, query, tail, &np, err, errlen);
		if (!st)
			return -1;
		int rc;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			struct store_facet_row row = {
				.value = (const char *)sqlite3_column_text(st, 0),
				.count = sqlite3_column_int64(st, 1),
			};
			if (fn(arg, fs[i].name, &row) != 0)
				break;
		}
		sqlite3_finalize(st);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return sq_fail(q, err, errlen, "facets");
	}
	return 0;
}

static int sq_scans(struct store *s, store_scan_fn *fn, void *arg, char *err, size_t errlen)
{
	struct sq *q = s->impl;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(q->db,
			       "SELECT id, name, started, coalesce(finished, 0), source,"
			       " (SELECT count(*) FROM services WHERE scan_id = scans.id) FROM scans ORDER BY id DESC",
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
	sqlite3_stmt *sel, *upd, *upd_rec = NULL;
	if (sqlite3_prepare_v2(q->db, "SELECT services.id, records.record FROM services JOIN records ON records.id = services.id"
			       " WHERE ?1 = 0 OR services.scan_id = ?1", -1, &sel, NULL) !=
	    SQLITE_OK)
		return sq_fail(q, err, errlen, "enrich");
	if (sqlite3_prepare_v2(q->db, "UPDATE services SET country = ?1, asn = ?2, org = ?3 WHERE id = ?5", -1, &upd,
			       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(q->db, "UPDATE records SET record = ?4 WHERE id = ?5", -1, &upd_rec, NULL) != SQLITE_OK) {
		sqlite3_finalize(sel);
		sqlite3_finalize(upd);
		return sq_fail(q, err, errlen, "enrich");
	}
	sqlite3_bind_int64(sel, 1, scan_id);
	sqlite3_exec(q->db, "BEGIN", NULL, NULL, NULL);
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
		record_free(&rec);
		if (sq_step(upd) != 0 || sq_step(upd_rec) != 0) {
			rc = sq_fail(q, err, errlen, "enrich");
			break;
		}
		(*changed)++;
	}
	strbuf_free(&json);
	sqlite3_finalize(sel);
	sqlite3_finalize(upd);
	sqlite3_finalize(upd_rec);
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
	/* keep the planner's statistics current (cheap when nothing changed) */
	/* (statistics are refreshed by ANALYZE at the end of each scan) */
	sqlite3_finalize(q->ins_service);
	sqlite3_finalize(q->ins_fts);
	sqlite3_finalize(q->ins_record);
	sqlite3_finalize(q->ins_tri);
	sqlite3_finalize(q->ins_vuln);
	sqlite3_finalize(q->ins_finding);
	sqlite3_close(q->db);
	store_row_buf_free(&q->buf);
	free(q);
	s->impl = NULL;
}

const struct store_backend store_backend_sqlite = {
	.name = "sqlite",
	.open = sq_open,
	.scan_begin = sq_scan_begin,
	.add = sq_add,
	.flush = sq_flush,
	.scan_end = sq_scan_end,
	.search = sq_search,
	.count = sq_count,
	.facets = sq_facets,
	.scans = sq_scans,
	.rewrite = sq_rewrite,
	.close = sq_close,
};
