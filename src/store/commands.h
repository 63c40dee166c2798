/* commands.h - command-line verbs over the index (search, count, stats,
 * host, scans, import). */
#ifndef VIGIL_COMMANDS_H
#define VIGIL_COMMANDS_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

struct enrich;

struct store_cli {
	bool json;
	int64_t limit;
	const char *facets;
};

int store_cli_search(struct store *s, const char *query, const struct store_cli *o);
int store_cli_count(struct store *s, const char *query, const struct store_cli *o);
int store_cli_stats(struct store *s, const char *query, const struct store_cli *o);
int store_cli_host(struct store *s, const char *ip, const struct store_cli *o);
int store_cli_scans(struct store *s, const struct store_cli *o);
int store_cli_import(struct store *s, const char *path, const char *format, uint16_t port, const char *scan_name,
		     const struct enrich *en);
/* Re-run enrichment over stored services (scan_id 0: all scans). */
int store_cli_enrich(struct store *s, int64_t scan_id, const struct enrich *en);

#endif
