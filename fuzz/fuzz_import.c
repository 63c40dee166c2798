/* fuzz_import.c - libFuzzer target for the importers (src/store/import*.c).
 * The first byte picks the format ('a' auto, 'v' vigil, 'j' masscan JSON,
 * 'l' masscan list, 'z' ZMap CSV, 'x' Nmap XML, 's' Shodan; other bytes
 * modulo 7), the rest is the file. Every record an importer emits must
 * survive the vigil round trip (serialise, parse, serialise: same bytes),
 * and so must any vigil line the parser accepts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/record.h"
#include "lib/strbuf.h"
#include "store/import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_round_trip(const struct service_record *rec)
{
	struct strbuf a, b;
	strbuf_init(&a);
	strbuf_init(&b);
	record_to_json(rec, &a);
	struct service_record back;
	char err[160];
	if (import_vigil_line(a.data, a.len, &back, err, sizeof(err)) != 0)
		abort();
	record_to_json(&back, &b);
	if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
		abort();
	if (back.banner_len != rec->banner_len || (rec->banner_len && memcmp(back.banner, rec->banner, rec->banner_len)))
		abort();
	record_free(&back);
	strbuf_free(&a);
	strbuf_free(&b);
}

static int on_record(void *arg, const struct service_record *rec)
{
	uint64_t *n = arg;
	if (rec->port == 0)
		abort();
	check_round_trip(rec);
	return ++*n >= 100000;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	enum import_format fmt;
	switch (data[0]) {
	case 'a': fmt = IMPORT_AUTO; break;
	case 'v': fmt = IMPORT_VIGIL; break;
	case 'j': fmt = IMPORT_MASSCAN_JSON; break;
	case 'l': fmt = IMPORT_MASSCAN_LIST; break;
	case 'z': fmt = IMPORT_ZMAP_CSV; break;
	case 'x': fmt = IMPORT_NMAP_XML; break;
	case 's': fmt = IMPORT_SHODAN; break;
	default: fmt = (enum import_format)(data[0] % 7); break;
	}
	const uint8_t *p = data + 1;
	size_t n = size - 1;
	(void)import_detect(p, n);
	uint64_t count = 0;
	struct import_report rep;
	char err[256];
	int rc = import_buffer(p, n, fmt, (data[0] & 1) ? 8080 : 0, on_record, &count, &rep, err, sizeof(err));
	if (rc == 0 && rep.records != count)
		abort();
	if (rep.nerrors < 0 || rep.nerrors > IMPORT_MAX_ERRORS || (uint64_t)rep.nerrors > rep.bad_lines)
		abort();
	for (int i = 0; i < rep.nerrors; i++)
		if (memchr(rep.first_errors[i], '\0', IMPORT_ERR_LEN) == NULL)
			abort();
	if (fmt == IMPORT_VIGIL) {
		struct service_record rec;
		if (import_vigil_line((const char *)p, n, &rec, err, sizeof(err)) == 0) {
			check_round_trip(&rec);
			record_free(&rec);
		}
	}
	return 0;
}
