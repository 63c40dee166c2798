/* store_sqlite_int.h - what the SQLite backend's files share: the
 * connection state (store_sqlite.c: schema, writes, facet counts) and the
 * query executor (store_sqlite_query.c: id sets from indexes). */
#ifndef VIGIL_STORE_SQLITE_INT_H
#define VIGIL_STORE_SQLITE_INT_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* One pending change of a materialised facet count (the batch's deltas). */
struct sq_fdelta {
	int64_t scan_id;
	int facet;      /* index into sq_mat_facets */
	bool is_int;
	int64_t i;
	char *s;
	int64_t n;
	uint64_t hash;  /* 0: empty slot */
};

/* Rows queued for the writer thread (pipeline mode). */
#define SQ_QUEUE 1024

/* A service ready to write (sq_row_build), owning its text (arena). */
struct sq_row {
	int64_t scan_id;
	struct store_value v[STORE_NCOLS];
	const char *tags;
	size_t nvulns;
	const char *vulns;  /* nvulns NUL-terminated strings, back to back */
	bool finding;
	const char *verdict, *cves, *evidence;
	struct strbuf arena;
};

/* Recently seen Server header values and their servers ids. */
#define SQ_SERVER_CACHE 4096
struct sq_server_slot {
	char *text;
	int64_t id;
};

struct sq {
	sqlite3 *db;
	sqlite3_stmt *ins_service, *ins_record, *ins_fts, *ins_tri, *ins_vuln, *ins_finding, *ins_facet,
		*ins_tags, *sel_server, *ins_server;
	struct strbuf tags, wtags;  /* tag text built by add() / by the writer */
	struct sq_server_slot srv_cache[SQ_SERVER_CACHE];
	int in_tx;
	int batch;
	double batch_started;
	struct store_row_buf buf;
	bool kept[STORE_NCOLS];  /* store_columns that services rows have */
	int fd_col[16];          /* sq_mat_facets' store_columns indexes */
	struct sq_fdelta *fd;  /* open-addressing table of facet deltas */
	size_t fd_cap, fd_used;
	/* pipeline mode: add() prepares rows into ring, a writer writes them */
	bool pipeline, writer_on, stop, werr, cons_waiting, prod_waiting;
	pthread_t writer, checkpointer;
	bool ck_on, ck_stop;
	pthread_cond_t ck_cond;
	char *path;
	pthread_mutex_t mu;
	pthread_cond_t nonempty, nonfull;
	struct sq_row *ring;
	size_t qhead, qcount;
	char werrmsg[STORE_ERR_LEN];
	struct sq_row row;  /* add()'s row when not in pipeline mode */
};

/* Stop the writer thread (pipeline mode) once it wrote every queued row;
 * -1 with its error if a write failed. */
int sq_sync(struct sq *q, char *err, size_t errlen);

/* Facets whose counts per scan are kept in facet_counts (low-cardinality
 * columns); the empty query's facets read them instead of every row. */
struct sq_mat_facet {
	const char *name;    /* the facet name of query_parse_facets */
	const char *column;  /* services column; NULL: vulns (upper(cve)) */
};
extern const struct sq_mat_facet sq_mat_facets[];
extern const size_t sq_mat_nfacets;
/* Index into sq_mat_facets of a facet name, or -1. */
int sq_mat_facet_index(const char *name);

int sq_fail(struct sq *q, char *err, size_t errlen, const char *what);
/* The migration from schema version from to from+1 (tests build old
 * databases with it), or NULL. */
const char *sq_migration_sql(int from);

/* The query verbs (store_sqlite_query.c). */
int sq_search(struct store *s, const char *query, int64_t limit, int64_t offset, store_row_fn *fn, void *arg,
	      char *err, size_t errlen);
int sq_count(struct store *s, const char *query, int64_t *n, char *err, size_t errlen);
int sq_facets(struct store *s, const char *query, const char *facets, store_facet_fn *fn, void *arg, char *err,
	      size_t errlen);

#endif
