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

/* One value of a term as a stand-alone query returning the ids of the
 * matching services from an index alone ("SELECT id FROM ..."), for
 * dialects with id_lists. Its placeholders bind params[p0 .. p0+np). */
struct query_ids {
	char *sql;
	size_t p0, np;
	char *tag;  /* non-NULL: the one parameter instead (a tag lookup) */
};

/* One term of a compiled query: its condition is where[off .. off+len)
 * (parenthesised, negation included), binding params[p0 .. p0+np). With
 * id_lists, indexed says every value has an id query (vals[0..nvals)),
 * whose union is the set of services the term matches before negation. */
struct query_term {
	bool neg;
	bool indexed;
	size_t off, len;
	size_t p0, np;
	struct query_ids *vals;
	size_t nvals;
};

/* A compiled query. where is a SQL boolean expression ("1=1" for an empty
 * query) whose placeholders are numbered 1..nparams in text order; params[k]
 * binds placeholder k+1. nterms is the number of terms the query had, so a
 * caller can refuse an empty search (0) while allowing count/stats;
 * terms[0..nterms) describe each one. */
struct query_sql {
	struct strbuf where;
	struct query_param *params;
	size_t nparams;
	size_t nterms;
	struct query_term *terms;
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
	/* optional: a boolean expression using an index for a
	 * case-insensitive substring of column (http_title or http_server)
	 * held by parameter idx, and that parameter's text for the substring
	 * s[0..n) (at least 3 characters); NULL: plain LIKE */
	void (*like_indexed)(struct strbuf *sql, const char *column, int idx);
	void (*like_indexed_value)(struct strbuf *param, const char *column, const char *s, size_t n);
	/* fill query_term.vals: per-value queries returning matching ids
	 * from indexes (the SQLite schema of store_sqlite.c) */
	bool id_lists;
	/* Server headers are a dictionary (table servers) whose ids are tags */
	bool server_dict;
};

/* SQLite: services.id IN (SELECT rowid FROM services_fts WHERE services_fts
 * MATCH ?), the MATCH string being the word or phrase double-quoted with
 * internal quotes doubled (an FTS5 string: no operator can be injected);
 * title/server substrings through the trigram index services_tri; id
 * lists for the indexed filters. */
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
/* Tags: the SQLite schema indexes exact filter values as tokens of one
 * full-text table (services_tags): prefix + value with ASCII letters
 * lower-cased and every byte other than [a-wyz0-9] written as xHH, so a
 * token is plain ASCII and says exactly one value. Both return the
 * token's length, or 0 when it does not fit in QUERY_TAG_MAX bytes (such
 * values are not tagged and not looked up by tag). */
#define QUERY_TAG_MAX 96
size_t query_tag(char out[QUERY_TAG_MAX], const char *prefix, const char *value, size_t n);
size_t query_tag_int(char out[QUERY_TAG_MAX], const char *prefix, int64_t v);
/* Tag prefixes */
#define QUERY_TAG_PORT    "port"
#define QUERY_TAG_PRODUCT "prod"
#define QUERY_TAG_VERDICT "verd"
#define QUERY_TAG_COUNTRY "cc"
#define QUERY_TAG_ASN     "asn"
#define QUERY_TAG_FAVICON "fav"
#define QUERY_TAG_TLS     "tls"
#define QUERY_TAG_COMPROMISED "comp"
#define QUERY_TAG_SERVER  "srv"  /* + the servers row id */

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
