/* fuzz_enrich.c - libFuzzer target for enrichment inputs: the ip2asn TSV
 * parser on arbitrary bytes, and (inputs starting with 'M') a MaxMind DB
 * made of the remaining bytes, opened and looked up through libmaxminddb.
 * Checks what enrich_record may produce: a two-letter upper-case country,
 * an org of at most 128 bytes without control characters. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/record.h"
#include "store/enrich.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

/* libmaxminddb 1.7.1 leaks a data pool when MMDB_open meets corrupt
 * metadata (fixed upstream in libmaxminddb PR 356): not ours to report. */
const char *__lsan_default_suppressions(void)
{
	return "leak:libmaxminddb.so\n";
}

static void check_record(const struct enrich *e, uint32_t ip)
{
	struct service_record r;
	record_init(&r, ip, 80, 0);
	enrich_record(e, &r, false);
	if (r.country && (strlen(r.country) != 2 || r.country[0] < 'A' || r.country[0] > 'Z' ||
			  r.country[1] < 'A' || r.country[1] > 'Z'))
		abort();
	if (r.org) {
		size_t n = strlen(r.org);
		if (n == 0 || n > 128)
			abort();
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)r.org[i] < 0x20 || r.org[i] == 0x7f)
				abort();
	}
	if (r.org && r.asn == 0)
		abort();
	enrich_record(e, &r, true);
	record_free(&r);
}

static void check_warnings(const struct enrich *e)
{
	static char w[64][ENRICH_WARN_LEN];
	size_t n = enrich_warnings(e, w, 64);
	if (n > 64)
		abort();
	for (size_t i = 0; i < n; i++)
		if (!memchr(w[i], '\0', ENRICH_WARN_LEN))
			abort();
}

/* A dotted quad at p (loosely: up to three digits per part). */
static int quad_at(const uint8_t *p, size_t n, uint32_t *out)
{
	uint32_t v = 0;
	size_t i = 0;
	for (int part = 0; part < 4; part++) {
		if (part > 0) {
			if (i >= n || p[i] != '.')
				return 0;
			i++;
		}
		unsigned oct = 0, digits = 0;
		while (i < n && digits < 3 && p[i] >= '0' && p[i] <= '9') {
			oct = oct * 10 + (unsigned)(p[i++] - '0');
			digits++;
		}
		if (!digits || oct > 255)
			return 0;
		v = v << 8 | oct;
	}
	*out = v;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct enrich *e = enrich_new();
	char err[ENRICH_ERR_LEN];
	uint32_t probes[8] = {0, UINT32_MAX, 0xc6120001u, 0xc0000280u, 0x01000000u, 0x7f000001u, 0, 0};
	if (size >= 5) {
		memcpy(&probes[6], data + 1, 4);
		probes[7] = probes[6] + 1;
	}
	if (size > 0 && data[0] == 'M') {
		static char path[64];
		if (!path[0])
			snprintf(path, sizeof(path), "/tmp/vigil-fuzz-enrich-%d.mmdb", (int)getpid());
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0)
			abort();
		if (write(fd, data + 1, size - 1) != (ssize_t)(size - 1))
			abort();
		close(fd);
		err[0] = '\0';
		int rc = enrich_add_mmdb(e, path, err, sizeof(err));
		unlink(path);  /* an open DB stays mapped */
		if (rc == 0)
			for (size_t i = 0; i < 8; i++)
				check_record(e, probes[i]);
		else if (!err[0])
			abort();
	} else {
		err[0] = '\0';
		if (enrich_add_ip2asn_buffer(e, data, size, "fuzz.tsv", err, sizeof(err)) == 0) {
			for (size_t i = 0; i < 8; i++)
				check_record(e, probes[i]);
			/* the dotted quads the input names, and their neighbours */
			size_t nq = 0;
			for (size_t i = 0; i < size && nq < 64; i++) {
				uint32_t ip;
				if ((i == 0 || data[i - 1] == '\t' || data[i - 1] == '\n') && quad_at(data + i, size - i, &ip)) {
					check_record(e, ip - 1);
					check_record(e, ip);
					check_record(e, ip + 1);
					nq++;
				}
			}
		} else if (!err[0]) {
			abort();
		}
		check_warnings(e);
	}
	enrich_free(e);
	return 0;
}
