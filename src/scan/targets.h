/* targets.h - IPv4 target sets: parsing of addresses, CIDRs, ranges and
 * files, excludes, the built-in reserved list, and index -> address mapping. */
#ifndef VIGIL_TARGETS_H
#define VIGIL_TARGETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TARGETS_ERR_LEN 256

struct ip_range {
	uint32_t lo, hi;  /* inclusive, host byte order */
};

/* A set of IPv4 addresses as sorted, disjoint, non-adjacent ranges once
 * normalised. cum[i] counts the addresses before range i, so the n-th
 * address of the set is found by binary search in O(log ranges). */
struct rangeset {
	struct ip_range *r;
	size_t n, cap;
	uint64_t *cum;
	uint64_t total;
	bool normalized;
};

void rangeset_init(struct rangeset *rs);
void rangeset_free(struct rangeset *rs);
void rangeset_add(struct rangeset *rs, uint32_t lo, uint32_t hi);
/* Sort, merge and index the set. Needed before pick/contains/subtract. */
void rangeset_normalize(struct rangeset *rs);
/* rs := rs minus ex (both are normalised first). */
void rangeset_subtract(struct rangeset *rs, struct rangeset *ex);
/* The idx-th address (0-based) of a normalised set; idx < rs->total. */
uint32_t rangeset_pick(const struct rangeset *rs, uint64_t idx);
bool rangeset_contains(const struct rangeset *rs, uint32_t ip);

/* Strict dotted-quad parser: four decimal octets 0-255, no leading zeros,
 * nothing else. Returns 0 and the address in host order, or -1. */
int ipv4_parse(const char *s, size_t len, uint32_t *out);
void ipv4_format(uint32_t ip, char buf[16]);

/* Parse one target token: A.B.C.D, A.B.C.D/N, A.B.C.D-E.F.G.H or
 * A.B.C.D-N (last octet). Returns 0 or -1 with a message in err. */
int targets_parse_token(const char *tok, size_t len, struct rangeset *out, char *err, size_t errlen);
/* Parse text of tokens separated by commas, blanks or newlines; '#' starts a
 * comment to the end of the line. origin names the source for errors
 * (a file name, or NULL for the command line). */
int targets_parse_text(const char *text, const char *origin, struct rangeset *out, char *err, size_t errlen);
int targets_parse_file(const char *path, struct rangeset *out, char *err, size_t errlen);
/* Add the IANA special-purpose ranges that vigil never scans by default. */
void targets_add_reserved(struct rangeset *out);

#endif
