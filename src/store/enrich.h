/* enrich.h - who owns an address: fills a service record's country, AS
 * number and AS/organisation name from its IPv4 address, using MaxMind-format
 * databases (GeoLite2 Country/City/ASN, DB-IP Lite, IPinfo; read through
 * libmaxminddb) and iptoasn.com's free ip2asn TSV (loaded into a sorted range
 * array). Several sources may be added; they are consulted in the order they
 * were added, and each field comes from the first source that knows it. */
#ifndef VIGIL_ENRICH_H
#define VIGIL_ENRICH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/record.h"

#define ENRICH_ERR_LEN 256
#define ENRICH_WARN_LEN 160

struct enrich;  /* opaque */

struct enrich *enrich_new(void);

/* Add a MaxMind DB file. Country from country.iso_code, else
 * registered_country.iso_code, else a two-letter country_code / country
 * string (IPinfo); AS from autonomous_system_number +
 * autonomous_system_organization (GeoLite2-ASN, DB-IP) or asn "AS64496" /
 * integer + as_name (IPinfo). The file is opened once (mmap) and checked with
 * a sweep of lookups, so a corrupt search tree fails here rather than at
 * every lookup. Returns 0, or -1 with a one-line message in err: missing or
 * unreadable file, not a MaxMind DB, corrupt database. */
int enrich_add_mmdb(struct enrich *e, const char *path, char *err, size_t errlen);

/* Add an ip2asn TSV file (iptoasn.com ip2asn-v4.tsv, or the -u32 variant
 * with decimal addresses): range_start TAB range_end TAB AS_number TAB
 * country_code TAB AS_description, inclusive ranges. AS 0 ("Not routed")
 * gives no AS and no name; country "None" / "ZZ" is unknown; IPv6 lines
 * (ip2asn-combined) are skipped. Unsorted input is sorted; overlapping
 * ranges are trimmed or dropped (the range starting first wins). Bad lines
 * are skipped and reported as warnings (file:line: why, first few per file;
 * see enrich_warnings); the load fails (-1) only when the file cannot be read,
 * is too large (> 512 MiB), is gzip-compressed, or has no valid line. */
int enrich_add_ip2asn(struct enrich *e, const char *path, char *err, size_t errlen);

/* The same parser on a memory buffer (any bytes, need not be NUL-terminated);
 * name labels warnings and errors. */
int enrich_add_ip2asn_buffer(struct enrich *e, const void *data, size_t len, const char *name,
			     char *err, size_t errlen);

/* Copy up to max warning lines (NUL-terminated, at most ENRICH_WARN_LEN - 1
 * characters) into lines and return how many were copied (<= max). At most
 * 64 are held: per file the first 8 line warnings, then "FILE: N more
 * warnings not shown". Warnings are for the user (log_warn), not fatal. */
size_t enrich_warnings(const struct enrich *e, char lines[][ENRICH_WARN_LEN], size_t max);

/* Fill rec->country, rec->asn and rec->org from rec->ip when a source knows
 * them. Without overwrite, fields already set are kept. asn and org are a
 * pair: an org is only filled together with its own AS (rec->asn 0 or equal).
 * Country is stored as two upper-case letters; org is valid UTF-8 without
 * control characters, at most 128 bytes. Thread-compatible: lookups on one
 * enrich from one thread at a time (the lookup-error counter is not atomic). */
void enrich_record(const struct enrich *e, struct service_record *rec, bool overwrite);

/* Lookups that a MaxMind DB answered with an error (corrupt data in a part
 * the load-time sweep did not reach); such lookups are treated as misses. */
uint64_t enrich_lookup_errors(const struct enrich *e);

void enrich_free(struct enrich *e);

#endif
