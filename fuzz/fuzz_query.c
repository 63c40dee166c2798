/* fuzz_query.c - libFuzzer target for the search language: compiles the
 * input with both SQL dialects and checks the invariants that make the
 * output safe to hand to a database: placeholders match the parameters
 * (PostgreSQL's numbered $1..$n in order), and the SQL text holds no single
 * quote outside the fixed templates, so no input byte reached the SQL. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "query/query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Quotes only inside ESCAPE '\', 'simple' and the Server-dictionary
 * fragment of the SQLite dialect. */
static void check_quotes(const char *sql)
{
	static const char *const fixed[] = {"ESCAPE '\\'", "'simple'",
					     "group_concat('\"srv' || id || '\"', ' OR '), '\"srvnone\"')"};
	for (const char *p = sql; *p; p++) {
		if (*p != '\'')
			continue;
		int ok = 0;
		for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]) && !ok; i++) {
			size_t n = strlen(fixed[i]);
			size_t off = (size_t)(strchr(fixed[i], '\'') - fixed[i]);
			if ((size_t)(p - sql) >= off && strncmp(p - off, fixed[i], n) == 0) {
				p += n - off - 1;
				ok = 1;
			}
		}
		if (!ok)
			abort();
	}
}

static void check(const struct query_sql *q, int pg)
{
	const char *w = q->where.data;
	if (!w || strlen(w) != q->where.len)
		abort();
	size_t k = 0;
	for (const char *p = w; *p; p++) {
		if (!pg && *p == '?') {
			k++;
		} else if (pg && *p == '$') {
			char *end;
			long v = strtol(p + 1, &end, 10);
			if (end == p + 1 || v != (long)(k + 1))
				abort();
			k++;
			p = end - 1;
		} else if (*p == ';' || (pg && *p == '?') || (!pg && *p == '$')) {
			abort();
		}
	}
	if (k != q->nparams)
		abort();
	for (size_t i = 0; i < q->nparams; i++)
		if (q->params[i].is_int == (q->params[i].s != NULL))
			abort();
	if (q->nterms > QUERY_MAX_TERMS || (q->nterms == 0 && strcmp(w, "1=1") != 0))
		abort();
	check_quotes(w);
	/* per-term spans and id queries: inside the where and the params,
	 * the same quoting rule, a tag is one [a-z0-9] token in quotes */
	for (size_t t = 0; t < q->nterms; t++) {
		const struct query_term *qt = &q->terms[t];
		if (qt->off + qt->len > q->where.len || qt->p0 + qt->np > q->nparams)
			abort();
		if (pg && (qt->indexed || qt->nvals))
			abort();
		for (size_t v = 0; v < qt->nvals; v++) {
			const struct query_ids *id = &qt->vals[v];
			if (!id->sql || id->p0 + id->np > q->nparams || strchr(id->sql, ';'))
				abort();
			check_quotes(id->sql);
			size_t marks = 0;
			for (const char *p = id->sql; *p; p++)
				marks += *p == '?';
			if (id->tag) {
				size_t n = strlen(id->tag);
				if (marks != 1 || n < 3 || id->tag[0] != '"' || id->tag[n - 1] != '"')
					abort();
				for (size_t i = 1; i + 1 < n; i++)
					if (!((id->tag[i] >= 'a' && id->tag[i] <= 'z') || (id->tag[i] >= '0' && id->tag[i] <= '9')))
						abort();
			} else if (marks != id->np) {
				abort();
			}
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	for (int pg = 0; pg < 2; pg++) {
		struct query_sql q;
		char err[QUERY_ERR_LEN];
		err[0] = '\0';
		if (query_compile(text, pg ? &query_dialect_postgres : &query_dialect_sqlite, &q, err, sizeof(err)) == 0)
			check(&q, pg);
		else if (err[0] == '\0' || q.nparams != 0 || q.params != NULL)
			abort();
		query_sql_free(&q);
	}
	struct query_facet f[16];
	size_t n;
	char err[QUERY_ERR_LEN];
	if (query_parse_facets(text, f, 16, &n, err, sizeof(err)) == 0) {
		for (size_t i = 0; i < n; i++)
			if (f[i].limit < 1 || f[i].limit > QUERY_FACET_MAX_LIMIT || !f[i].column)
				abort();
	} else if (n != 0) {
		abort();
	}
	query_suggest(text);
	free(text);
	return 0;
}
