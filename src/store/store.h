/* store.h - the index: one storage interface (a struct of function
 * pointers) with two backends, SQLite (default, one file) and PostgreSQL
 * (a fleet). Scans, services, vulns and findings, searched with the query
 * language of src/query. See docs/store.md for the schema. */
#ifndef VIGIL_STORE_H
#define VIGIL_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/record.h"
#include "lib/strbuf.h"

#define STORE_SCHEMA_VERSION 1
#define STORE_ERR_LEN 512

struct store;

struct store_scan_info {
	const char *name;     /* NULL: generated */
	const char *targets;
	const char *ports;
	const char *options;
	const char *source;   /* "scan" or "import:FORMAT" */
};

/* One search result. */
struct store_row {
	int64_t service_id;
	int64_t scan_id;
	const char *scan_name;
	const char *record;   /* the JSON record (no trailing newline) */
	/* columns for tables (NULL when absent) */
	uint32_t ip;
	int port;
	int64_t ts;
	const char *product, *version, *verdict, *title;
};

struct store_scan_row {
	int64_t id;
	const char *name;
	int64_t started, finished;  /* finished 0: unfinished */
	const char *source;
	int64_t services;
};

struct store_facet_row {
	const char *value;
	int64_t count;
};

typedef int store_row_fn(void *arg, const struct store_row *row);
typedef int store_scan_fn(void *arg, const struct store_scan_row *row);
typedef int store_facet_fn(void *arg, const char *facet, const struct store_facet_row *row);

struct store_backend {
	const char *name;
	/* Open or create; migrate an older schema; refuse a newer one. */
	int (*open)(struct store *s, const char *uri, char *err, size_t errlen);
	int (*scan_begin)(struct store *s, const struct store_scan_info *info, int64_t *scan_id, char *err, size_t errlen);
	/* Add one service; written in batched transactions. */
	int (*add)(struct store *s, int64_t scan_id, const struct service_record *rec, char *err, size_t errlen);
	/* Commit the current batch. */
	int (*flush)(struct store *s, char *err, size_t errlen);
	/* Optional (NULL: not offered): on, add() only prepares each row and a
	 * writer thread writes them (bulk imports use both cores); errors
	 * surface at a later add(), flush() or scan_end(). */
	void (*pipeline)(struct store *s, bool on);
	int (*scan_end)(struct store *s, int64_t scan_id, bool finished, char *err, size_t errlen);
	/* Rows matching a query (newest first); where/params from query_compile. */
	int (*search)(struct store *s, const char *query, int64_t limit, int64_t offset, store_row_fn *fn, void *arg,
		      char *err, size_t errlen);
	int (*count)(struct store *s, const char *query, int64_t *n, char *err, size_t errlen);
	int (*facets)(struct store *s, const char *query, const char *facets, store_facet_fn *fn, void *arg, char *err,
		      size_t errlen);
	int (*scans)(struct store *s, store_scan_fn *fn, void *arg, char *err, size_t errlen);
	/* Re-run enrichment over stored services: fn updates a record in place;
	 * scan_id 0 = all scans. */
	int (*rewrite)(struct store *s, int64_t scan_id, void (*fn)(void *arg, struct service_record *rec), void *arg,
		       int64_t *changed, char *err, size_t errlen);
	void (*close)(struct store *s);
};

struct store {
	const struct store_backend *be;
	void *impl;
};

extern const struct store_backend store_backend_sqlite;
extern const struct store_backend store_backend_postgres;

/* Open the store named by uri: "postgres://..." or "postgresql://..." or
 * "host=... dbname=..." uses PostgreSQL, anything else is a SQLite file. */
struct store *store_open(const char *uri, char *err, size_t errlen);
void store_close(struct store *s);

/* The services columns, in the order store_record_values fills them. */
#define STORE_NCOLS 31
extern const char *const store_columns[STORE_NCOLS];

struct store_value {
	enum { SV_NULL, SV_INT, SV_TEXT } type;
	int64_t i;
	const char *s;
};

/* Scratch space for the text a record's column values point into. */
struct store_row_buf {
	struct strbuf headers, sans, banner, json;
	struct strbuf clean[5];  /* UTF-8-cleaned copies of server-sent text */
};

/* The findings row of a record: CVEs comma-separated, evidence one line
 * each (caller frees both strbufs). */
void store_finding_text(const struct service_record *rec, struct strbuf *cves, struct strbuf *evidence);

struct query_facet;
/* "SELECT value, count(*) FROM services ..." and the "... GROUP BY" tail of
 * one facet; as_text casts the value to text (PostgreSQL). */
void store_facet_sql(const struct query_facet *f, bool as_text, char *select, size_t select_len, char *tail,
		     size_t tail_len);

void store_row_buf_init(struct store_row_buf *b);
void store_row_buf_free(struct store_row_buf *b);
/* Fill vals (STORE_NCOLS) from a record; text points into b or rec. */
void store_record_values(const struct service_record *rec, struct store_row_buf *b, struct store_value *vals);

#endif
