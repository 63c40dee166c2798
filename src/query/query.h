/* query.h - the Shodan-like search language: parse a query string and
 * compile it to a parameterised SQL boolean expression over the `services`
 * table of docs/store.md (SQLite or PostgreSQL), plus facet lists.
 *
 * Language (docs/store.md, "Query language"): terms separated by blanks,
 * all ANDed. A term is a bare word or "a phrase" (full text over banner,
 * http_title and headers), or name:value / name:"value with spaces",
 * optionally prefixed by '-' (negation). In a filter, commas separate
 * values that are ORed: port:80,443. Inside quotes, \" is a quote and \\ a
 * backslash. A query is hostile input: it is bounded (QUERY_MAX_*), every
 * value is validated and travels as a bound parameter, never as SQL text. */
#ifndef VIGIL_QUERY_H
#define VIGIL_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/strbuf.h"

#define QUERY_MAX_LEN      4096  /* bytes of query text */
#define QUERY_MAX_TERMS    64
#define QUERY_MAX_VALUES   64    /* comma-separated values in one filter */
#define QUERY_ERR_LEN      256   /* enough for every error message */
#define QUERY_FACET_DEFAULT_LIMIT 5
#define QUERY_FACET_MAX_LIMIT     1000

/* One bound parameter: an integer (is_int, value in i) or a NUL-terminated
 * string (s, owned by the query_sql). */
struct query_param {
	bool is_int;
	int64_t i;
	char *s;
};

/* A compiled query. where is a SQL boolean expression ("1=1" for an empty
 * query) whose placeholders are numbered 1..nparams in text order; params[k]
 * binds placeholder k+1. nterms is the number of terms the query had, so a
 * caller can refuse an empty search (0) while allowing count/stats. */
struct query_sql {
	struct strbuf where;
	struct query_param *params;
	size_t nparams;
	size_t nterms;
};

/* What differs between SQL engines. */
struct query_dialect {
	const char *name;
	/* write the placeholder for the idx-th (1-based) parameter:
	 * "?" for SQLite, "$idx" for PostgreSQL */
	void (*placeholder)(struct strbuf *sql, int idx);
	/* write a boolean SQL expression that is true when `services` matches
	 * the full-text query held by parameter idx (a bare word) */
	void (*fulltext)(struct strbuf *sql, int idx);
	/* same for a quoted phrase (words in this order, adjacent) */
	void (*fulltext_phrase)(struct strbuf *sql, int idx);
	/* append to param the parameter text for the word or phrase s[0..n)
	 * (already unescaped); the engine's full-text syntax is applied here,
	 * so user text can never be read as full-text operators */
	void (*fulltext_value)(struct strbuf *param, const char *s, size_t n);
	/* optional: a boolean expression using an index for
	 * "column LIKE <parameter idx>" (case-insensitive substring, the
	 * parameter is %value% with no other wildcard); NULL: plain LIKE */
	void (*like_indexed)(struct strbuf *sql, const char *column, int idx);
};

/* SQLite: services.id IN (SELECT rowid FROM services_fts WHERE services_fts
 * MATCH ?), the MATCH string being the word or phrase double-quoted with
 * internal quotes doubled (an FTS5 string: no operator can be injected). */
extern const struct query_dialect query_dialect_sqlite;
/* PostgreSQL: services.fts @@ plainto_tsquery('simple', $n) for words,
 * phraseto_tsquery('simple', $n) for phrases; the raw text is the param.
 * (ESCAPE '\' in LIKE assumes standard_conforming_strings = on, the
 * default since PostgreSQL 9.1.) */
extern const struct query_dialect query_dialect_postgres;

/* Compile text (NUL-terminated, at most QUERY_MAX_LEN bytes) for dialect d
 * into *out. Returns 0, or -1 with one English sentence in err (errlen
 * bytes, QUERY_ERR_LEN is enough) and *out left empty. On success the
 * caller owns *out and releases it with query_sql_free. */
int query_compile(const char *text, const struct query_dialect *d, struct query_sql *out, char *err, size_t errlen);
/* Release a query_sql (safe on a zeroed or already freed one). */
void query_sql_free(struct query_sql *q);

/* A facet: top values of column (an SQL expression on `services`, or on
 * `vulns` when via_vulns: the caller then adds QUERY_FACET_VULNS_JOIN to
 * its FROM clause) with limit buckets. name is the canonical facet name
 * (static storage). */
struct query_facet {
	const char *name;
	const char *column;
	int limit;
	bool via_vulns;
};
#define QUERY_FACET_VULNS_JOIN "JOIN vulns ON vulns.service_id = services.id"

/* Parse "country,port:10,verdict" into out[0..*n) (at most max entries):
 * comma-separated facet names, each optionally ":N" (1..1000, default 5).
 * Known names: port, country, asn, org, product, version, verdict,
 * transport, http.status, http.title (alias title), server,
 * ssl.cert.subject.cn, vuln. Returns 0 or -1 with a message in err
 * (unknown facet with a suggestion, bad limit, duplicate, too many). */
int query_parse_facets(const char *text, struct query_facet *out, size_t max, size_t *n, char *err, size_t errlen);

/* The known filter name closest to s (case-insensitive Levenshtein
 * distance at most 3 and smaller than s's length), or NULL. Exposed for
 * tests. */
const char *query_suggest(const char *s);

#endif
