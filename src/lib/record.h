/* record.h - the service record: everything vigil learns about one open
 * (ip, port), from layer 4 through probes and checks. It is the common
 * currency between stages (scan, probe, detect, output, store). */
#ifndef VIGIL_RECORD_H
#define VIGIL_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "lib/strbuf.h"

struct strlist {
	char **v;
	size_t n;
};

void strlist_add(struct strlist *l, const char *s);
void strlist_addf(struct strlist *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strlist_free(struct strlist *l);

struct record_tls {
	char version[16];
	char cipher[64];
	char *subject_cn, *issuer_cn;
	struct strlist sans;
	char not_before[24], not_after[24];
	char sha256[65];
	bool have_cert;
};

struct record_http {
	int status;
	char *title;
	char *server;
	char *location;
	struct strlist header_names, header_values;  /* original order and case */
	char body_sha256[65];
	size_t body_len;
	bool body_truncated;
	bool have_favicon;
	int32_t favicon_hash;
};

enum record_tristate { TRI_NULL = -1, TRI_FALSE = 0, TRI_TRUE = 1 };

struct service_record {
	uint32_t ip;
	uint16_t port;
	time_t timestamp;
	bool probed;            /* layer 7 ran: tls/http/banner may be set */
	bool has_tls;
	struct record_tls tls;
	bool has_http;
	struct record_http http;
	uint8_t *banner;        /* raw bytes, escaped on output */
	size_t banner_len;
	char *error;            /* why probing stopped early, if it did */
	/* enrichment: who owns the address */
	char *country;          /* ISO 3166 alpha-2 */
	uint32_t asn;           /* 0: unknown */
	char *org;
	/* detection */
	char *product, *edition, *version, *version_source;
	/* checks */
	bool has_toolshell;
	char *verdict;
	enum record_tristate compromised;
	struct strlist evidence;
	struct strlist vulns;
};

void record_init(struct service_record *r, uint32_t ip, uint16_t port, time_t ts);
void record_free(struct service_record *r);
/* Replace *dst with a copy of src (NULL clears). */
void record_set(char **dst, const char *src);
/* Append r as one JSON object and a newline. */
void record_to_json(const struct service_record *r, struct strbuf *out);

#endif
