/* store_sqlite_query.c - the SQLite backend's query executor: search,
 * count and facets.
 *
 * SQLite uses one index per table in a query, so "verdict:vulnerable
 * country:DE" would read every row of one index's matches to test the
 * other. Instead each indexed term is answered from its index alone as a
 * sorted list of service ids (query_term.vals, e.g. "SELECT id FROM
 * services WHERE upper(country) = ?", or the rowids of an FTS5 match), and
 * the lists are intersected, merged and subtracted here, like a search
 * engine's posting lists. Only terms no index answers are tested row by
 * row, and only on the ids left. A query without a positive indexed term
 * (say "-port:80") runs as one plain WHERE over every row.
 *
 * Results come newest first (ts DESC, id DESC): a large id set walks the ts
 * index until the page is full; a small one is sorted. The empty query's
 * facets and count read the per-scan counts in facet_counts. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/alloc.h"
#include "query/query.h"
#include "store/store_sqlite_int.h"

#define SQ_ROW_COLUMNS                                                                                         \
	"SELECT services.id, services.scan_id, (SELECT name FROM scans WHERE scans.id = services.scan_id),"   \
	" (SELECT record FROM records WHERE records.id = services.id), services.ip, services.port, services.ts," \
	" services.product, services.version, services.verdict, services.http_title"

/* A sorted set of service ids. */
struct idset {
	int64_t *v;
	size_t n, cap;
};

static void ids_push(struct idset *s, int64_t id)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 1024;
		s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
	}
	s->v[s->n++] = id;
}

static void ids_free(struct idset *s)
{
	free(s->v);
	*s = (struct idset){0};
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* Sort (unless already sorted) and drop duplicates. */
static void ids_normalise(struct idset *s, bool sorted)
{
	if (!sorted)
		qsort(s->v, s->n, sizeof(*s->v), cmp_i64);
	size_t k = 0;
	for (size_t i = 0; i < s->n; i++)
		if (k == 0 || s->v[k - 1] != s->v[i])
			s->v[k++] = s->v[i];
	s->n = k;
}

static bool ids_has(const struct idset *s, int64_t id)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->v[mid] < id)
			lo = mid + 1;
		else if (s->v[mid] > id)
			hi = mid;
		else
			return true;
	}
	return false;
}

/* a = a AND b */
static void ids_and(struct idset *a, const struct idset *b)
{
	size_t i = 0, j = 0, k = 0;
	while (i < a->n && j < b->n) {
		if (a->v[i] < b->v[j])
			i++;
		else if (a->v[i] > b->v[j])
			j++;
		else {
			a->v[k++] = a->v[i++];
			j++;
		}
	}
	a->n = k;
}

/* a = a AND NOT b */
static void ids_minus(struct idset *a, const struct idset *b)
{
	size_t i = 0, j = 0, k = 0;
	while (i < a->n) {
		while (j < b->n && b->v[j] < a->v[i])
			j++;
		if (j < b->n && b->v[j] == a->v[i])
			i++;
		else
			a->v[k++] = a->v[i++];
	}
	a->n = k;
}

/* a = a OR b */
static void ids_or(struct idset *a, const struct idset *b)
{
	struct idset r = {0};
	size_t i = 0, j = 0;
	while (i < a->n || j < b->n) {
		if (j == b->n || (i < a->n && a->v[i] < b->v[j]))
			ids_push(&r, a->v[i++]);
		else if (i == a->n || b->v[j] < a->v[i])
			ids_push(&r, b->v[j++]);
		else {
			ids_push(&r, a->v[i++]);
			j++;
		}
	}
	ids_free(a);
	*a = r;
}

static void bind_params(sqlite3_stmt *st, int first, const struct query_param *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i].is_int)
			sqlite3_bind_int64(st, first + (int)i, p[i].i);
		else
			sqlite3_bind_text(st, first + (int)i, p[i].s, -1, SQLITE_TRANSIENT);
	}
}

/* Run an id query (one column of ids) into out, sorted and distinct. */
static int ids_run(struct sq *q, const struct query_sql *qs, const struct query_ids *val, struct idset *out,
		   char *err, size_t errlen)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(q->db, val->sql, -1, &st, NULL) != SQLITE_OK)
		return sq_fail(q, err, errlen, "query");
	if (val->tag)
		sqlite3_bind_text(st, 1, val->tag, -1, SQLITE_STATIC);
	else
		bind_params(st, 1, qs->params + val->p0, val->np);
	bool sorted = true;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		if (out->n && id < out->v[out->n - 1])
			sorted = false;
		ids_push(out, id);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return sq_fail(q, err, errlen, "query");
	ids_normalise(out, sorted);
	return 0;
}

/* The services one term matches (before its negation): the union of its
 * values' id lists. */
static int term_ids(struct sq *q, const struct query_sql *qs, const struct query_term *t, struct idset *out,
		    char *err, size_t errlen)
{
	*out = (struct idset){0};
	for (size_t i = 0; i < t->nvals; i++) {
		struct idset one = {0};
		if (ids_run(q, qs, &t->vals[i], i == 0 ? out : &one, err, errlen) < 0) {
			ids_free(&one);
			ids_free(out);
			return -1;
		}
		if (i > 0) {
			ids_or(out, &one);
			ids_free(&one);
		}
	}
	return 0;
}

/* Keep the ids whose rows pass every term no index answers. */
static int residual_filter(struct sq *q, const struct query_sql *qs, struct idset *ids, char *err, size_t errlen)
{
	struct strbuf sql;
	strbuf_init(&sql);
	strbuf_adds(&sql, "SELECT 1 FROM services WHERE ");
	size_t nres = 0;
	for (size_t i = 0; i < qs->nterms; i++) {
		const struct query_term *t = &qs->terms[i];
		if (t->indexed)
			continue;
		strbuf_add(&sql, qs->where.data + t->off, t->len);
		strbuf_adds(&sql, " AND ");
		nres++;
	}
	strbuf_adds(&sql, "services.id = ?");
	if (nres == 0) {
		strbuf_free(&sql);
		return 0;
	}
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(q->db, sql.data, -1, &st, NULL);
	strbuf_free(&sql);
	if (rc != SQLITE_OK)
		return sq_fail(q, err, errlen, "query");
	int next = 1;
	for (size_t i = 0; i < qs->nterms; i++) {
		const struct query_term *t = &qs->terms[i];
		if (t->indexed)
			continue;
		bind_params(st, next, qs->params + t->p0, t->np);
		next += (int)t->np;
	}
	size_t k = 0;
	for (size_t i = 0; i < ids->n; i++) {
		sqlite3_bind_int64(st, next, ids->v[i]);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc == SQLITE_ROW)
			ids->v[k++] = ids->v[i];
		else if (rc != SQLITE_DONE)
			break;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return sq_fail(q, err, errlen, "query");
	ids->n = k;
	return 0;
}

/* The ids matching a compiled query: 1 with *out filled, 0 when the query
 * has no positive indexed term (the caller runs the plain WHERE), -1. */
static int sq_eval(struct sq *q, const struct query_sql *qs, struct idset *out, char *err, size_t errlen)
{
	*out = (struct idset){0};
	bool base = false;
	for (size_t i = 0; i < qs->nterms; i++)
		if (qs->terms[i].indexed && !qs->terms[i].neg)
			base = true;
	if (!base)
		return 0;
	bool have = false;
	/* positive terms first, then subtract the negated ones */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < qs->nterms; i++) {
			const struct query_term *t = &qs->terms[i];
			if (!t->indexed || t->neg != (pass == 1))
				continue;
			if (have && out->n == 0)
				return 1;
			struct idset s;
			if (term_ids(q, qs, t, &s, err, errlen) < 0) {
				ids_free(out);
				return -1;
			}
			if (!have) {
				*out = s;
				have = true;
				continue;
			}
			if (t->neg)
				ids_minus(out, &s);
			else
				ids_and(out, &s);
			ids_free(&s);
		}
	}
	if (out->n && residual_filter(q, qs, out, err, errlen) < 0) {
		ids_free(out);
		return -1;
	}
	return 1;
}

/* The ids into the temporary table q_ids, for joins. */
static int ids_to_temp(struct sq *q, const struct idset *ids, char *err, size_t errlen)
{
	if (sqlite3_exec(q->db, "CREATE TEMP TABLE IF NOT EXISTS q_ids(id INTEGER PRIMARY KEY); DELETE FROM q_ids;", NULL,
			 NULL, NULL) != SQLITE_OK)
		return sq_fail(q, err, errlen, "query");
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(q->db, "INSERT INTO q_ids(id) VALUES(?)", -1, &st, NULL) != SQLITE_OK)
		return sq_fail(q, err, errlen, "query");
	int rc = SQLITE_DONE;
	for (size_t i = 0; i < ids->n && rc == SQLITE_DONE; i++) {
		sqlite3_bind_int64(st, 1, ids->v[i]);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : sq_fail(q, err, errlen, "query");
}

/* One read transaction around a query's statements: a consistent view
 * while a scan writes. */
static bool read_begin(struct sq *q)
{
	if (!sqlite3_get_autocommit(q->db))
		return false;
	return sqlite3_exec(q->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
}

static void read_end(struct sq *q, bool began)
{
	if (began)
		sqlite3_exec(q->db, "COMMIT", NULL, NULL, NULL);
}

/* Prepare "<select> WHERE <query where> <tail>" and bind (the plain path). */
static sqlite3_stmt *prepare_where(struct sq *q, const char *select, const struct query_sql *qs, const char *tail,
				   int *next_param, char *err, size_t errlen)
{
	struct strbuf sql;
	strbuf_init(&sql);
	strbuf_printf(&sql, "%s WHERE %s %s", select, qs->where.data, tail ? tail : "");
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(q->db, sql.data, -1, &st, NULL) != SQLITE_OK) {
		sq_fail(q, err, errlen, "query");
		st = NULL;
	} else {
		bind_params(st, 1, qs->params, qs->nparams);
		*next_param = (int)qs->nparams + 1;
	}
	strbuf_free(&sql);
	return st;
}

/* Step a statement of SQ_ROW_COLUMNS rows into fn: 1 when fn asked to
 * stop, 0 at the end, -1 on an error. */
static int emit_rows(struct sq *q, sqlite3_stmt *st, store_row_fn *fn, void *arg, char *err, size_t errlen)
{
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
			return 1;
	}
	return rc == SQLITE_DONE ? 0 : sq_fail(q, err, errlen, "query");
}

/* A page of a large id set: walk the ts index newest first, keep members. */
static int search_walk(struct sq *q, const struct idset *ids, int64_t limit, int64_t offset, store_row_fn *fn,
		       void *arg, char *err, size_t errlen)
{
	sqlite3_stmt *walk, *row;
	if (sqlite3_prepare_v2(q->db, "SELECT id FROM services INDEXED BY services_ts ORDER BY ts DESC, id DESC", -1,
			       &walk, NULL) != SQLITE_OK)
		return sq_fail(q, err, errlen, "query");
	if (sqlite3_prepare_v2(q->db, SQ_ROW_COLUMNS " FROM services WHERE services.id = ?", -1, &row, NULL) !=
	    SQLITE_OK) {
		sqlite3_finalize(walk);
		return sq_fail(q, err, errlen, "query");
	}
	int rc = 0, src;
	int64_t seen = 0, sent = 0;
	while (sent < limit && (src = sqlite3_step(walk)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(walk, 0);
		if (!ids_has(ids, id) || seen++ < offset)
			continue;
		sqlite3_bind_int64(row, 1, id);
		rc = emit_rows(q, row, fn, arg, err, errlen);
		sqlite3_reset(row);
		sent++;
		if (rc != 0)
			break;
	}
	sqlite3_finalize(walk);
	sqlite3_finalize(row);
	return rc < 0 ? -1 : 0;
}

int sq_search(struct store *s, const char *query, int64_t limit, int64_t offset, store_row_fn *fn, void *arg,
	      char *err, size_t errlen)
{
	struct sq *q = s->impl;
	if (sq_sync(q, err, errlen) < 0)
		return -1;
	struct query_sql qs;
	if (query_compile(query, &query_dialect_sqlite, &qs, err, errlen) < 0)
		return -1;
	bool began = read_begin(q);
	struct idset ids;
	int rc = sq_eval(q, &qs, &ids, err, errlen);
	sqlite3_stmt *st = NULL;
	int np;
	if (rc == 0) {
		st = prepare_where(q, SQ_ROW_COLUMNS " FROM services", &qs,
				   "ORDER BY services.ts DESC, services.id DESC LIMIT ? OFFSET ?", &np, err, errlen);
		rc = st ? 0 : -1;
	} else if (rc == 1 && ids.n > 0) {
		int64_t total = 0;
		sqlite3_stmt *mx;
		if (sqlite3_prepare_v2(q->db, "SELECT max(id) FROM services", -1, &mx, NULL) == SQLITE_OK) {
			if (sqlite3_step(mx) == SQLITE_ROW)
				total = sqlite3_column_int64(mx, 0);
			sqlite3_finalize(mx);
		}
		/* index entries a walk reads for one page, against sorting the set */
		double walk = ((double)offset + (double)limit) * (double)total / (double)ids.n;
		if (walk < 8.0 * (double)ids.n) {
			rc = search_walk(q, &ids, limit, offset, fn, arg, err, errlen);
		} else if ((rc = ids_to_temp(q, &ids, err, errlen)) == 0) {
			np = 1;
			if (sqlite3_prepare_v2(q->db,
					       SQ_ROW_COLUMNS " FROM q_ids CROSS JOIN services ON services.id = q_ids.id"
					       " ORDER BY services.ts DESC, services.id DESC LIMIT ? OFFSET ?",
					       -1, &st, NULL) != SQLITE_OK)
				rc = sq_fail(q, err, errlen, "query");
		}
	} else if (rc == 1) {
		rc = 0;
	}
	if (st) {
		sqlite3_bind_int64(st, np, limit);
		sqlite3_bind_int64(st, np + 1, offset);
		rc = emit_rows(q, st, fn, arg, err, errlen) < 0 ? -1 : 0;
		sqlite3_finalize(st);
	}
	ids_free(&ids);
	read_end(q, began);
	query_sql_free(&qs);
	return rc;
}

int sq_count(struct store *s, const char *query, int64_t *n, char *err, size_t errlen)
{
	struct sq *q = s->impl;
	if (sq_sync(q, err, errlen) < 0)
		return -1;
	struct query_sql qs;
	if (query_compile(query, &query_dialect_sqlite, &qs, err, errlen) < 0)
		return -1;
	bool began = read_begin(q);
	struct idset ids;
	int rc = qs.nterms == 0 ? 0 : sq_eval(q, &qs, &ids, err, errlen);
	*n = 0;
	if (rc == 1) {
		*n = (int64_t)ids.n;
		ids_free(&ids);
		rc = 0;
	} else if (rc == 0) {
		/* every service has a port: the port counts sum to the total */
		int np;
		sqlite3_stmt *st = qs.nterms == 0
			? (sqlite3_prepare_v2(q->db, "SELECT coalesce(sum(n), 0) FROM facet_counts WHERE facet = 'port'",
					      -1, &st, NULL) == SQLITE_OK ? st : NULL)
			: prepare_where(q, "SELECT count(*) FROM services", &qs, NULL, &np, err, errlen);
		if (!st)
			rc = qs.nterms == 0 ? sq_fail(q, err, errlen, "query") : -1;
		else if (sqlite3_step(st) == SQLITE_ROW)
			*n = sqlite3_column_int64(st, 0);
		else
			rc = sq_fail(q, err, errlen, "query");
		sqlite3_finalize(st);
	}
	read_end(q, began);
	query_sql_free(&qs);
	return rc;
}

static int facet_rows(struct sq *q, sqlite3_stmt *st, const char *name, store_facet_fn *fn, void *arg, char *err,
		      size_t errlen)
{
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_facet_row row = {
			.value = (const char *)sqlite3_column_text(st, 0),
			.count = sqlite3_column_int64(st, 1),
		};
		if (fn(arg, name, &row) != 0)
			return 0;
	}
	return rc == SQLITE_DONE ? 0 : sq_fail(q, err, errlen, "facets");
}

/* The statement for one facet: from facet_counts (empty query), over the
 * ids in q_ids (set), or over the plain WHERE. */
static sqlite3_stmt *facet_stmt(struct sq *q, const struct query_facet *f, const struct query_sql *qs, int mode,
				char *err, size_t errlen)
{
	char sql[768];
	sqlite3_stmt *st = NULL;
	int np;
	if (mode == 2) {
		if (sqlite3_prepare_v2(q->db,
				       "SELECT value, sum(n) FROM facet_counts WHERE facet = ? GROUP BY value"
				       " HAVING sum(n) > 0 ORDER BY 2 DESC, 1 LIMIT ?",
				       -1, &st, NULL) != SQLITE_OK) {
			sq_fail(q, err, errlen, "facets");
			return NULL;
		}
		sqlite3_bind_text(st, 1, f->name, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, f->limit);
		return st;
	}
	if (mode == 1) {
		if (f->via_vulns)
			snprintf(sql, sizeof(sql),
				 "SELECT upper(v.cve), count(*) FROM q_ids CROSS JOIN vulns v ON v.service_id = q_ids.id"
				 " GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT %d", f->limit);
		else
			snprintf(sql, sizeof(sql),
				 "SELECT %s, count(*) FROM q_ids CROSS JOIN services ON services.id = q_ids.id"
				 " WHERE %s IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT %d",
				 f->column, f->column, f->limit);
		if (sqlite3_prepare_v2(q->db, sql, -1, &st, NULL) != SQLITE_OK) {
			sq_fail(q, err, errlen, "facets");
			return NULL;
		}
		return st;
	}
	char select[512], tail[256];
	store_facet_sql(f, false, select, sizeof(select), tail, sizeof(tail));
	return prepare_where(q, select, qs, tail, &np, err, errlen);
}

int sq_facets(struct store *s, const char *query, const char *facets, store_facet_fn *fn, void *arg, char *err,
	      size_t errlen)
{
	struct sq *q = s->impl;
	if (sq_sync(q, err, errlen) < 0)
		return -1;
	struct query_facet fs[16];
	size_t nf;
	if (query_parse_facets(facets, fs, 16, &nf, err, errlen) < 0)
		return -1;
	struct query_sql qs;
	if (query_compile(query, &query_dialect_sqlite, &qs, err, errlen) < 0)
		return -1;
	bool began = read_begin(q);
	struct idset ids = {0};
	int rc = qs.nterms == 0 ? 0 : sq_eval(q, &qs, &ids, err, errlen);
	if (rc == 1)
		rc = ids_to_temp(q, &ids, err, errlen) < 0 ? -1 : 1;
	for (size_t i = 0; rc >= 0 && i < nf; i++) {
		/* 2: facet_counts, 1: the id set, 0: plain WHERE */
		int mode = rc == 1 ? 1 : qs.nterms == 0 && sq_mat_facet_index(fs[i].name) >= 0 ? 2 : 0;
		sqlite3_stmt *st = facet_stmt(q, &fs[i], &qs, mode, err, errlen);
		if (!st || facet_rows(q, st, fs[i].name, fn, arg, err, errlen) < 0)
			rc = -1;
		sqlite3_finalize(st);
	}
	ids_free(&ids);
	read_end(q, began);
	query_sql_free(&qs);
	return rc < 0 ? -1 : 0;
}
