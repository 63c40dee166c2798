/* store_pg.c - the PostgreSQL backend (a fleet's shared index) through
 * libpq: the same tables as SQLite, a generated tsvector column for full
 * text, batched transactions, schema versioning, and a reconnect when the
 * server restarts between batches. */
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/alloc.h"
#include "lib/timeutil.h"
#include "query/query.h"
#include "store/import.h"
#include "store/store.h"

#define PG_BATCH 2000

static const char *const pg_migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);"
	"CREATE TABLE scans(id BIGSERIAL PRIMARY KEY, name TEXT, started BIGINT, finished BIGINT,"
	" targets TEXT, ports TEXT, options TEXT, source TEXT);"
	"CREATE TABLE services(id BIGSERIAL PRIMARY KEY, scan_id BIGINT NOT NULL REFERENCES scans(id),"
	" ip BIGINT NOT NULL, port INTEGER NOT NULL, transport TEXT, ts BIGINT,"
	" http_status INTEGER, http_title TEXT, http_server TEXT, http_location TEXT, http_body_sha256 TEXT,"
	" http_body_len BIGINT, http_favicon_hash BIGINT, headers TEXT, has_tls INTEGER,"
	" tls_version TEXT, tls_cipher TEXT, cert_subject_cn TEXT, cert_issuer_cn TEXT, cert_sans TEXT,"
	" cert_sha256 TEXT, cert_not_after TEXT, banner TEXT, product TEXT, edition TEXT, version TEXT,"
	" version_source TEXT, verdict TEXT, compromised INTEGER, country TEXT, asn BIGINT, org TEXT,"
	" record TEXT,"
	" fts tsvector GENERATED ALWAYS AS (to_tsvector('simple', coalesce(banner,'') || ' ' ||"
	" coalesce(http_title,'') || ' ' || coalesce(headers,''))) STORED);"
	"CREATE TABLE vulns(service_id BIGINT NOT NULL, cve TEXT NOT NULL);"
	"CREATE TABLE findings(id BIGSERIAL PRIMARY KEY, service_id BIGINT NOT NULL, check_name TEXT,"
	" verdict TEXT, cves TEXT, evidence TEXT);"
	"CREATE INDEX services_fts ON services USING gin(fts);"
	"CREATE INDEX services_ip ON services(ip);"
	"CREATE INDEX services_port ON services(port);"
	"CREATE INDEX services_ts ON services(ts);"
	"CREATE UNIQUE INDEX services_scan ON services(scan_id, ip, port);"
	"CREATE INDEX services_product ON services(lower(product));"
	"CREATE INDEX services_version ON services(lower(version));"
	"CREATE INDEX services_verdict ON services(lower(verdict));"
	"CREATE INDEX services_country ON services(upper(country));"
	"CREATE INDEX services_asn ON services(asn);"
	"CREATE INDEX services_org ON services(lower(org));"
	"CREATE INDEX services_status ON services(http_status);"
	"CREATE INDEX services_favicon ON services(http_favicon_hash);"
	"CREATE INDEX services_cert ON services(cert_sha256);"
	"CREATE INDEX services_compromised ON services(compromised);"
	"CREATE INDEX vulns_service ON vulns(service_id);"
	"CREATE INDEX vulns_cve ON vulns(upper(cve));"
	"CREATE INDEX findings_service ON findings(service_id);",
};
#define PG_SCHEMA (int)(sizeof(pg_migrations) / sizeof(pg_migrations[0]))

struct pg {
	PGconn *conn;
	char *uri;
	bool in_tx;
	int batch;
	double batch_started;
	bool conn_lost;          /* the last error means the server went away */
	char **pending;          /* JSON of the open batch's records */
	int64_t *pending_scan;
	size_t npending, cap_pending;
	struct store_row_buf buf;
};

static int pg_fail(struct pg *p, char *err, size_t errlen, const char *what)
{
	const char *msg = PQerrorMessage(p->conn);
	size_t n = strcspn(msg, "\n");
	snprintf(err, errlen, "%s: %.*s", what, (int)n, msg);
	return -1;
}

/* Run a command; returns 0 or -1 with err. */
/* Remember whether an error means the connection is gone: SQLSTATE class
 * 08 (connection exception) or 57P (the server is shutting down). */
static void pg_note_state(struct pg *p, const PGresult *r)
{
	const char *st = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	p->conn_lost = PQstatus(p->conn) != CONNECTION_OK || !st || strncmp(st, "08", 2) == 0 ||
		       strncmp(st, "57P", 3) == 0;
}

static int pg_exec(struct pg *p, const char *sql, char *err, size_t errlen)
{
	PGresult *r = PQexec(p->conn, sql);
	ExecStatusType st = PQresultStatus(r);
	int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
	if (!ok)
		pg_note_state(p, r);
	PQclear(r);
	return ok ? 0 : pg_fail(p, err, errlen, "database error");
}

static int pg_prepare_all(struct pg *p, char *err, size_t errlen)
{
	struct strbuf sql;
	strbuf_init(&sql);
	strbuf_adds(&sql, "INSERT INTO services(scan_id");
	for (int i = 0; i < STORE_NCOLS; i++)
		strbuf_printf(&sql, ",%s", store_columns[i]);
	strbuf_adds(&sql, ") VALUES($1");
	for (int i = 0; i < STORE_NCOLS; i++)
		strbuf_printf(&sql, ",$%d", i + 2);
	strbuf_adds(&sql, ") ON CONFLICT (scan_id, ip, port) DO NOTHING RETURNING id");
	PGresult *r = PQprepare(p->conn, "ins_service", sql.data, 0, NULL);
	strbuf_free(&sql);
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	if (!ok)
		return pg_fail(p, err, errlen, "preparing statements");
	r = PQprepare(p->conn, "ins_vuln", "INSERT INTO vulns(service_id, cve) VALUES($1,$2)", 0, NULL);
	ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	if (!ok)
		return pg_fail(p, err, errlen, "preparing statements");
	r = PQprepare(p->conn, "ins_finding",
		      "INSERT INTO findings(service_id, check_name, verdict, cves, evidence) VALUES($1,$2,$3,$4,$5)", 0, NULL);
	ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	return ok ? 0 : pg_fail(p, err, errlen, "preparing statements");
}

static int pg_connect(struct pg *p, char *err, size_t errlen)
{
	p->conn = PQconnectdb(p->uri);
	if (PQstatus(p->conn) != CONNECTION_OK)
		return pg_fail(p, err, errlen, "cannot connect to PostgreSQL");
	PQsetErrorVerbosity(p->conn, PQERRORS_TERSE);
	pg_exec(p, "SET client_min_messages = warning", err, errlen);
	return 0;
}

static int pg_schema_version(struct pg *p)
{
	PGresult *r = PQexec(p->conn, "SELECT value FROM meta WHERE key = 'schema_version'");
	int v = 0;
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		v = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	return v;
}

static int pg_open(struct store *s, const char *uri, char *err, size_t errlen)
{
	struct pg *p = xcalloc(1, sizeof(*p));
	s->impl = p;
	p->uri = xstrdup(uri);
	if (pg_connect(p, err, errlen) < 0)
		goto fail;
	/* serialise schema changes between vigil processes of a fleet */
	if (pg_exec(p, "BEGIN; SELECT pg_advisory_xact_lock(7262);"
		       " CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT)", err, errlen) < 0)
		goto fail;
	int v = pg_schema_version(p);
	if (v > PG_SCHEMA) {
		pg_exec(p, "ROLLBACK", err, errlen);
		snprintf(err, errlen, "database has schema version %d, newer than this vigil supports (%d): upgrade vigil", v,
			 PG_SCHEMA);
		goto fail;
	}
	for (int i = v; i < PG_SCHEMA; i++)
		if (pg_exec(p, pg_migrations[i], err, errlen) < 0) {
			char e2[64];
			pg_exec(p, "ROLLBACK", e2, sizeof(e2));
			goto fail;
		}
	char sql[160];
	snprintf(sql, sizeof(sql),
		 "INSERT INTO meta VALUES('schema_version','%d') ON CONFLICT(key) DO UPDATE SET value = EXCLUDED.value; COMMIT",
		 PG_SCHEMA);
	if (v < PG_SCHEMA ? pg_exec(p, sql, err, errlen) < 0 : pg_exec(p, "COMMIT", err, errlen) < 0)
		goto fail;
	if (pg_prepare_all(p, err, errlen) < 0)
		goto fail;
	store_row_buf_init(&p->buf);
	return 0;
fail:
	PQfinish(p->conn);
	free(p->uri);
	free(p);
	s->impl = NULL;
	return -1;
}

static int pg_scan_begin(struct store *s, const struct store_scan_info *info, int64_t *scan_id, char *err, size_t errlen)
{
	struct pg *p = s->impl;
	char name[64], started[24];
	time_t now = time(NULL);
	if (!info->name) {
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(name, sizeof(name), "scan-%Y%m%d-%H%M%S", &tm);
	}
	snprintf(started, sizeof(started), "%" PRId64, (int64_t)now);
	const char *vals[6] = {info->name ? info->name : name, started, info->targets, info->ports, info->options,
			       info->source};
	PGresult *r = PQexecParams(p->conn,
				   "INSERT INTO scans(name, started, targets, ports, options, source) VALUES($1,$2,$3,$4,$5,$6)"
				   " RETURNING id",
				   6, NULL, vals, NULL, NULL, 0);
	int ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
	if (ok)
		*scan_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return ok ? 0 : pg_fail(p, err, errlen, "creating the scan");
}

static int pg_recover(struct pg *p, char *err, size_t errlen);
static void pg_pending_clear(struct pg *p);

static int pg_flush(struct store *s, char *err, size_t errlen)
{
	struct pg *p = s->impl;
	if (!p->in_tx)
		return 0;
	int rc = pg_exec(p, "COMMIT", err, errlen);
	if (rc < 0 && p->conn_lost) {
		/* the commit did not reach the server: replay and commit again */
		p->in_tx = false;
		if (pg_recover(p, err, errlen) == 0)
			rc = pg_exec(p, "COMMIT", err, errlen);
	}
	p->in_tx = false;
	p->batch = 0;
	pg_pending_clear(p);
	return rc;
}

/* Insert one record inside the open transaction. */
static int pg_insert(struct pg *p, int64_t scan_id, const struct service_record *rec, char *err, size_t errlen)
{
	struct store_value v[STORE_NCOLS];
	store_record_values(rec, &p->buf, v);
	char ints[STORE_NCOLS + 1][24];
	const char *vals[STORE_NCOLS + 1];
	snprintf(ints[0], sizeof(ints[0]), "%" PRId64, scan_id);
	vals[0] = ints[0];
	for (int i = 0; i < STORE_NCOLS; i++) {
		if (v[i].type == SV_INT) {
			snprintf(ints[i + 1], sizeof(ints[i + 1]), "%" PRId64, v[i].i);
			vals[i + 1] = ints[i + 1];
		} else {
			vals[i + 1] = v[i].type == SV_TEXT ? v[i].s : NULL;
		}
	}
	PGresult *r = PQexecPrepared(p->conn, "ins_service", STORE_NCOLS + 1, vals, NULL, NULL, 0);
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 0) {
		PQclear(r);
		return 0;  /* already stored (a resumed scan's overlap) */
	}
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		pg_note_state(p, r);
		PQclear(r);
		return pg_fail(p, err, errlen, "saving results");
	}
	char id[24];
	snprintf(id, sizeof(id), "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	for (size_t i = 0; i < rec->vulns.n; i++) {
		const char *vv[2] = {id, rec->vulns.v[i]};
		r = PQexecPrepared(p->conn, "ins_vuln", 2, vv, NULL, NULL, 0);
		int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
		if (!ok)
			pg_note_state(p, r);
		PQclear(r);
		if (!ok)
			return pg_fail(p, err, errlen, "saving results");
	}
	if (rec->has_toolshell) {
		struct strbuf cves, ev;
		store_finding_text(rec, &cves, &ev);
		const char *fv[5] = {id, "toolshell", rec->verdict, cves.data ? cves.data : "", ev.data ? ev.data : ""};
		r = PQexecPrepared(p->conn, "ins_finding", 5, fv, NULL, NULL, 0);
		int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
		if (!ok)
			pg_note_state(p, r);
		PQclear(r);
		strbuf_free(&cves);
		strbuf_free(&ev);
		if (!ok)
			return pg_fail(p, err, errlen, "saving results");
	}
	return 0;
}


/* Reconnect after the server went away (a restart), for up to ~30 s, and
 * replay the records of the batch that was open: inserts are idempotent
 * (one row per scan, ip, port), so nothing is lost and nothing doubled. */
static int pg_recover(struct pg *p, char *err, size_t errlen)
{
	for (int attempt = 0; attempt < 30; attempt++) {
		if (attempt)
			time_sleep(1);
		PQreset(p->conn);
		if (PQstatus(p->conn) != CONNECTION_OK)
			continue;
		if (pg_prepare_all(p, err, errlen) < 0 || pg_exec(p, "BEGIN", err, errlen) < 0)
			continue;
		p->in_tx = true;
		bool ok = true;
		for (size_t i = 0; i < p->npending && ok; i++) {
			struct service_record rec;
			char perr[160];
			if (import_vigil_line(p->pending[i], strlen(p->pending[i]), &rec, perr, sizeof(perr)) < 0)
				continue;
			ok = pg_insert(p, p->pending_scan[i], &rec, err, errlen) == 0;
			record_free(&rec);
		}
		if (ok) {
			p->conn_lost = false;
			return 0;
		}
	}
	return pg_fail(p, err, errlen, "lost the PostgreSQL connection and could not reconnect in 30 s");
}

static void pg_pending_clear(struct pg *p)
{
	for (size_t i = 0; i < p->npending; i++)
		free(p->pending[i]);
	p->npending = 0;
}

static int pg_add(struct store *s, int64_t scan_id, const struct service_record *rec, char *err, size_t errlen)
{
	struct pg *p = s->impl;
	if (!p->in_tx) {
		if (pg_exec(p, "BEGIN", err, errlen) < 0 && (!p->conn_lost || pg_recover(p, err, errlen) < 0))
			return -1;
		p->in_tx = true;
	}
	if (pg_insert(p, scan_id, rec, err, errlen) < 0) {
		if (!p->conn_lost) {
			/* a real error (not a lost connection): the batch is lost */
			char e2[64];
			pg_exec(p, "ROLLBACK", e2, sizeof(e2));
			p->in_tx = false;
			pg_pending_clear(p);
			return -1;
		}
		if (pg_recover(p, err, errlen) < 0 || pg_insert(p, scan_id, rec, err, errlen) < 0)
			return -1;
	}
	/* keep the batch's records until COMMIT, to replay after a reconnect */
	if (p->npending == p->cap_pending) {
		p->cap_pending = p->cap_pending ? p->cap_pending * 2 : 256;
		p->pending = xrealloc(p->pending, p->cap_pending * sizeof(char *));
		p->pending_scan = xrealloc(p->pending_scan, p->cap_pending * sizeof(int64_t));
	}
	p->pending[p->npending] = xstrdup(p->buf.json.data ? p->buf.json.data : "");
	p->pending_scan[p->npending++] = scan_id;
	if (p->batch == 0)
		p->batch_started = time_mono();
	if (++p->batch >= PG_BATCH || time_mono() - p->batch_started >= 1.0)
		return pg_flush(s, err, errlen);
	return 0;
}

static int pg_scan_end(struct store *s, int64_t scan_id, bool finished, char *err, size_t errlen)
{
	struct pg *p = s->impl;
	if (pg_flush(s, err, errlen) < 0)
		return -1;
	if (!finished)
		return 0;
	char now[24], id[24];
	snprintf(now, sizeof(now), "%" PRId64, (int64_t)time(NULL));
	snprintf(id, sizeof(id), "%" PRId64, scan_id);
	const char *vals[2] = {now, id};
	PGresult *r = PQexecParams(p->conn, "UPDATE scans SET finished = $1 WHERE id = $2", 2, NULL, vals, NULL, NULL, 0);
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	return ok ? 0 : pg_fail(p, err, errlen, "finishing the scan");
}

/* Run "<select> WHERE <query> <tail>" with the query's parameters plus
 * extra trailing ones. */
static PGresult *pg_run_query(struct pg *p, const char *select, const char *query, const char *tail_fmt,
			      const char *const *extra, int nextra, char *err, size_t errlen)
{
	struct query_sql qs;
	if (query_compile(query, &query_dialect_postgres, &qs, err, errlen) < 0)
		return NULL;
	struct strbuf sql;
	strbuf_init(&sql);
	strbuf_printf(&sql, "%s WHERE %s ", select, qs.where.data);
	int n = (int)qs.nparams;
	if (tail_fmt) {
		/* the tail names its parameters $A and $B: renumber after the query's */
		for (const char *t = tail_fmt; *t; t++) {
			if (t[0] == '$' && (t[1] == 'A' || t[1] == 'B')) {
				strbuf_printf(&sql, "$%d", n + 1 + (t[1] - 'A'));
				t++;
			} else {
				strbuf_add(&sql, t, 1);
			}
		}
	}
	const char **vals = xcalloc(qs.nparams + (size_t)nextra + 1, sizeof(char *));
	char (*ints)[24] = xcalloc(qs.nparams + 1, 24);
	for (size_t i = 0; i < qs.nparams; i++) {
		if (qs.params[i].is_int) {
			snprintf(ints[i], 24, "%" PRId64, qs.params[i].i);
			vals[i] = ints[i];
		} else {
			vals[i] = qs.params[i].s;
		}
	}
	for (int i = 0; i < nextra; i++)
		vals[qs.nparams + (size_t)i] = extra[i];
	PGresult *r = PQexecParams(p->conn, sql.data, n + nextra, NULL, vals, NULL, NULL, 0);
	free(vals);
	free(ints);
	strbuf_free(&sql);
	query_sql_free(&qs);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		pg_fail(p, err, errlen, "query");
		PQclear(r);
		return NULL;
	}
	return r;
}

static int pg_search(struct store *s, const char *query, int64_t limit, int64_t offset, store_row_fn *fn, void *arg,
		     char *err, size_t errlen)
{
	struct pg *p = s->impl;
	char lim[24], off[24];
	snprintf(lim, sizeof(lim), "%" PRId64, limit);
	snprintf(off, sizeof(off), "%" PRId64, offset);
	const char *extra[2] = {lim, off};
	PGresult *r = pg_run_query(p,
		"SELECT services.id, services.scan_id, (SELECT name FROM scans WHERE scans.id = services.scan_id),"
		" services.record, services.ip, services.port, services.ts, services.product, services.version,"
		" services.verdict, services.http_title FROM services", query, "ORDER BY services.ts DESC, services.id DESC LIMIT $A OFFSET $B",
		extra, 2, err, errlen);
	if (!r)
		return -1;
	for (int i = 0; i < PQntuples(r); i++) {
		struct store_row row = {
			.service_id = strtoll(PQgetvalue(r, i, 0), NULL, 10),
			.scan_id = strtoll(PQgetvalue(r, i, 1), NULL, 10),
			.scan_name = PQgetvalue(r, i, 2),
			.record = PQgetvalue(r, i, 3),
			.ip = (uint32_t)strtoll(PQgetvalue(r, i, 4), NULL, 10),
			.port = atoi(PQgetvalue(r, i, 5)),
			.ts = strtoll(PQgetvalue(r, i, 6), NULL, 10),
			.product = PQgetisnull(r, i, 7) ? NULL : PQgetvalue(r, i, 7),
			.version = PQgetisnull(r, i, 8) ? NULL : PQgetvalue(r, i, 8),
			.verdict = PQgetisnull(r, i, 9) ? NULL : PQgetvalue(r, i, 9),
			.title = PQgetisnull(r, i, 10) ? NULL : PQgetvalue(r, i, 10),
		};
		if (fn(arg, &row) != 0)
			break;
	}
	PQclear(r);
	return 0;
}

static int pg_count(struct store *s, const char *query, int64_t *n, char *err, size_t errlen)
{
	struct pg *p = s->impl;
	PGresult *r = pg_run_query(p, "SELECT count(*) FROM services", query, NULL, NULL, 0, err, errlen);
	if (!r)
		return -1;
	*n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return 0;
}

static int pg_facets(struct store *s, const char *query, const char *facets, store_facet_fn *fn, void *arg, char *err,
		     size_t errlen)
{
	struct pg *p = s->impl;
	struct query_facet fs[16];
	size_t nf;
	if (query_parse_facets(facets, fs, 16, &nf, err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < nf; i++) {
		char select[512], tail[256];
		store_facet_sql(&fs[i], true, select, sizeof(select), tail, sizeof(tail));
		PGresult *r = pg_run_query(p, select, query, tail, NULL, 0, err, errlen);
		if (!r)
			return -1;
		for (int k = 0; k < PQntuples(r); k++) {
			struct store_facet_row row = {.value = PQgetvalue(r, k, 0), .count = strtoll(PQgetvalue(r, k, 1), NULL, 10)};
			if (fn(arg, fs[i].name, &row) != 0)
				break;
		}
		PQclear(r);
	}
	return 0;
}

static int pg_scans(struct store *s, store_scan_fn *fn, void *arg, char *err, size_t errlen)
{
	struct pg *p = s->impl;
	PGresult *r = PQexec(p->conn, "SELECT id, name, started, coalesce(finished, 0), source,"
				      " (SELECT count(*) FROM services WHERE scan_id = scans.id) FROM scans ORDER BY id DESC");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		PQclear(r);
		return pg_fail(p, err, errlen, "listing scans");
	}
	for (int i = 0; i < PQntuples(r); i++) {
		struct store_scan_row row = {
			.id = strtoll(PQgetvalue(r, i, 0), NULL, 10),
			.name = PQgetvalue(r, i, 1),
			.started = strtoll(PQgetvalue(r, i, 2), NULL, 10),
			.finished = strtoll(PQgetvalue(r, i, 3), NULL, 10),
			.source = PQgetvalue(r, i, 4),
			.services = strtoll(PQgetvalue(r, i, 5), NULL, 10),
		};
		if (fn(arg, &row) != 0)
			break;
	}
	PQclear(r);
	return 0;
}

static void pg_close(struct store *s)
{
	struct pg *p = s->impl;
	if (!p)
		return;
	char err[STORE_ERR_LEN];
	pg_flush(s, err, sizeof(err));
	PQfinish(p->conn);
	pg_pending_clear(p);
	free(p->pending);
	free(p->pending_scan);
	store_row_buf_free(&p->buf);
	free(p->uri);
	free(p);
	s->impl = NULL;
}

const struct store_backend store_backend_postgres = {
	.name = "postgres",
	.open = pg_open,
	.scan_begin = pg_scan_begin,
	.add = pg_add,
	.flush = pg_flush,
	.scan_end = pg_scan_end,
	.search = pg_search,
	.count = pg_count,
	.facets = pg_facets,
	.scans = pg_scans,
	.rewrite = NULL,
	.close = pg_close,
};
