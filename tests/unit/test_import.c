/* test_import.c - the importers (src/store/import*.c): each format's sample
 * file in tests/data/import/ gives the exact records and bad lines, format
 * auto-detection, the vigil JSON round trip, hostile inputs (DTDs, long
 * lines, garbage), stopping, unreadable paths, and a 10 MB file. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/alloc.h"
#include "lib/record.h"
#include "lib/strbuf.h"
#include "store/import.h"
#include "test.h"

#define DATA "tests/data/import/"
#define MAX_GOT 64

struct got_rec {
	uint32_t ip;
	uint16_t port;
	time_t ts;
	char *json;   /* record_to_json, without the newline */
	char *vulns;  /* space-joined (not in the JSON unless toolshell ran) */
	char *banner; /* raw bytes, NUL-terminated copy */
	size_t banner_len;
	bool probed;
};

struct got {
	struct got_rec r[MAX_GOT];
	int n;
	uint64_t total;
	uint64_t stop_after;  /* 0: never stop */
};

static int collect(void *arg, const struct service_record *rec)
{
	struct got *g = arg;
	g->total++;
	if (g->n < MAX_GOT) {
		struct got_rec *r = &g->r[g->n++];
		r->ip = rec->ip;
		r->port = rec->port;
		r->ts = rec->timestamp;
		r->probed = rec->probed;
		struct strbuf sb;
		strbuf_init(&sb);
		record_to_json(rec, &sb);
		if (sb.len && sb.data[sb.len - 1] == '\n')
			sb.data[--sb.len] = '\0';
		r->json = sb.data;
		strbuf_init(&sb);
		for (size_t i = 0; i < rec->vulns.n; i++)
			strbuf_printf(&sb, "%s%s", i ? " " : "", rec->vulns.v[i]);
		r->vulns = sb.data ? sb.data : xstrdup("");
		r->banner = NULL;
		r->banner_len = rec->banner_len;
		if (rec->banner) {
			r->banner = xmalloc(rec->banner_len + 1);
			memcpy(r->banner, rec->banner, rec->banner_len);
			r->banner[rec->banner_len] = '\0';
		}
	}
	return g->stop_after && g->total >= g->stop_after;
}

static void got_free(struct got *g)
{
	for (int i = 0; i < g->n; i++) {
		free(g->r[i].json);
		free(g->r[i].vulns);
		free(g->r[i].banner);
	}
	memset(g, 0, sizeof(*g));
}

static uint32_t ip4(unsigned a, unsigned b, unsigned c, unsigned d)
{
	return (uint32_t)a << 24 | b << 16 | c << 8 | d;
}

static bool has(const struct got_rec *r, const char *needle)
{
	bool ok = strstr(r->json, needle) != NULL;
	if (!ok)
		printf("#   record %s lacks %s\n", r->json, needle);
	return ok;
}

static bool err_is(const struct import_report *rep, int i, const char *prefix)
{
	bool ok = i < rep->nerrors && strncmp(rep->first_errors[i], prefix, strlen(prefix)) == 0;
	if (!ok)
		printf("#   error %d is '%s', expected '%s...'\n", i, i < rep->nerrors ? rep->first_errors[i] : "(none)",
		       prefix);
	return ok;
}

static int run_file(const char *path, enum import_format fmt, uint16_t port, struct got *g, struct import_report *rep)
{
	char err[256] = "";
	memset(g, 0, sizeof(*g));
	int rc = import_file(path, fmt, port, collect, g, rep, err, sizeof(err));
	if (rc != 0)
		printf("#   import_file(%s): %s\n", path, err);
	return rc;
}

static int run_mem(const char *text, enum import_format fmt, uint16_t port, struct got *g, struct import_report *rep)
{
	char err[256] = "";
	memset(g, 0, sizeof(*g));
	int rc = import_buffer((const uint8_t *)text, strlen(text), fmt, port, collect, g, rep, err, sizeof(err));
	if (rc != 0)
		printf("#   import_buffer: %s\n", err);
	return rc;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	struct strbuf sb;
	strbuf_init(&sb);
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		strbuf_add(&sb, buf, n);
	fclose(f);
	*len = sb.len;
	return sb.data;
}

TEST(import_format_names)
{
	static const char *const names[] = {"auto", "vigil", "masscan-json", "masscan-list", "zmap-csv", "nmap-xml",
					    "shodan"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		enum import_format f;
		CHECK(import_format_parse(names[i], &f) == 0);
		CHECK(f == (enum import_format)i);
		CHECK(strcmp(import_format_name(f), names[i]) == 0);
	}
	enum import_format f = IMPORT_VIGIL;
	CHECK(import_format_parse("nmap", &f) < 0);
	CHECK(import_format_parse("", &f) < 0);
	CHECK(import_format_parse("Shodan", &f) < 0);
	CHECK(f == IMPORT_VIGIL);
}

static enum import_format detect_file(const char *path)
{
	size_t len = 0;
	char *data = slurp(path, &len);
	if (!data)
		return (enum import_format)-1;
	enum import_format f = import_detect((const uint8_t *)data, len);
	free(data);
	return f;
}

static enum import_format detect_str(const char *s)
{
	return import_detect((const uint8_t *)s, strlen(s));
}

TEST(import_detect_formats)
{
	CHECK(detect_file(DATA "vigil.jsonl") == IMPORT_VIGIL);
	CHECK(detect_file(DATA "masscan.json") == IMPORT_MASSCAN_JSON);
	CHECK(detect_file(DATA "masscan-new.json") == IMPORT_MASSCAN_JSON);
	CHECK(detect_file(DATA "masscan.txt") == IMPORT_MASSCAN_LIST);
	CHECK(detect_file(DATA "zmap.csv") == IMPORT_ZMAP_CSV);
	CHECK(detect_file(DATA "zmap-plain.txt") == IMPORT_ZMAP_CSV);
	CHECK(detect_file(DATA "nmap.xml") == IMPORT_NMAP_XML);
	CHECK(detect_file(DATA "shodan.jsonl") == IMPORT_SHODAN);
	/* heads of other shapes */
	CHECK(detect_str("\xef\xbb\xbf\n\n  open tcp 80 192.0.2.1 1390380064\n") == IMPORT_MASSCAN_LIST);
	CHECK(detect_str("# comment\nbanner tcp 80 192.0.2.1 1390380064 http x\n") == IMPORT_MASSCAN_LIST);
	CHECK(detect_str("{   \"ip\": \"192.0.2.1\",   \"timestamp\": \"1\", \"ports\": [ ] }") == IMPORT_MASSCAN_JSON);
	CHECK(detect_str("{\"ip\":\"192.0.2.1\",\"timestamp\":\"1\",\"port\":80,\"proto\":\"tcp\",\"rec_type\":\"status\"}") ==
	      IMPORT_MASSCAN_JSON);  /* masscan -oD */
	CHECK(detect_str("<nmaprun scanner=\"nmap\">") == IMPORT_NMAP_XML);
	CHECK(detect_str("saddr\n192.0.2.1\n") == IMPORT_ZMAP_CSV);
	CHECK(detect_str("daddr,\"saddr\",sport\r\n") == IMPORT_ZMAP_CSV);
	CHECK(detect_str("192.0.2.1\r\n") == IMPORT_ZMAP_CSV);
	CHECK(detect_str("") == IMPORT_AUTO);
	CHECK(detect_str("   \n\t\n") == IMPORT_AUTO);
	CHECK(detect_str("\x1f\x8b\x08\x00") == IMPORT_AUTO);
	CHECK(detect_str("hello world\n") == IMPORT_AUTO);
	CHECK(detect_str("{\"foo\": 1}\n") == IMPORT_AUTO);
	CHECK(detect_str("<html><body>") == IMPORT_AUTO);
	CHECK(detect_str("# only a comment") == IMPORT_AUTO);
	CHECK(detect_str("192.0.2.300\n") == IMPORT_AUTO);
}

TEST(import_auto_long_first_line)
{
	/* a Shodan banner whose ip_str comes after 300 KB of HTML */
	char path[] = "/tmp/vigil-import-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	FILE *f = fdopen(fd, "w");
	fputs("{\"port\": 80, \"http\": {\"html\": \"", f);
	for (int i = 0; i < 300 * 1024 / 16; i++)
		fputs("<p>lorem ipsum</p>", f);
	fputs("\"}, \"transport\": \"tcp\", \"timestamp\": \"2025-01-01T00:00:00.000000\", \"ip_str\": \"192.0.2.1\"}\n", f);
	fclose(f);
	struct got g;
	struct import_report rep;
	CHECK(run_file(path, IMPORT_AUTO, 0, &g, &rep) == 0);
	CHECK(rep.format == IMPORT_SHODAN && rep.records == 1 && g.n == 1 && g.r[0].ip == ip4(192, 0, 2, 1));
	got_free(&g);
	unlink(path);
}

TEST(import_auto_uses_detected_format)
{
	static const struct {
		const char *file;
		enum import_format fmt;
		uint64_t records;
	} cases[] = {
		{DATA "vigil.jsonl", IMPORT_VIGIL, 4},
		{DATA "masscan.json", IMPORT_MASSCAN_JSON, 3},
		{DATA "masscan.txt", IMPORT_MASSCAN_LIST, 3},
		{DATA "zmap.csv", IMPORT_ZMAP_CSV, 2},
		{DATA "nmap.xml", IMPORT_NMAP_XML, 3},
		{DATA "shodan.jsonl", IMPORT_SHODAN, 3},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct got g;
		struct import_report rep;
		CHECK(run_file(cases[i].file, IMPORT_AUTO, 0, &g, &rep) == 0);
		CHECK(rep.format == cases[i].fmt);
		CHECK(rep.records == cases[i].records);
		got_free(&g);
	}
}

/* ---- vigil ---- */

TEST(import_vigil_sample)
{
	struct got g;
	struct import_report rep;
	CHECK(run_file(DATA "vigil.jsonl", IMPORT_VIGIL, 0, &g, &rep) == 0);
	CHECK(rep.records == 4 && g.n == 4);
	CHECK(rep.bad_lines == 2 && rep.nerrors == 2);
	CHECK(err_is(&rep, 0, "line 4: invalid JSON at byte "));
	CHECK(err_is(&rep, 1, "line 5: IPv6 not supported yet"));
	if (g.n == 4) {
		CHECK(g.r[0].ip == ip4(198, 18, 0, 7) && g.r[0].port == 80 && g.r[0].ts == 1735689600);
		CHECK(!g.r[0].probed);
		CHECK(g.r[1].ip == ip4(198, 18, 0, 8) && g.r[1].port == 443 && g.r[1].probed);
		CHECK(strcmp(g.r[1].vulns, "CVE-2025-53770 CVE-2025-53771") == 0);
		CHECK(g.r[2].port == 3306 && g.r[2].banner_len == 25);
		CHECK(g.r[2].banner && memcmp(g.r[2].banner, "J\0\0\0\n8.0.36\0\x12\0\0\0\xffx\x01?\xe9\xc3\xa9\"\\", 25) == 0);
		CHECK(g.r[3].port == 8443 && has(&g.r[3], "\"body_truncated\":true"));
	}
	/* every good line comes back byte for byte */
	size_t len;
	char *text = slurp(DATA "vigil.jsonl", &len);
	CHECK(text != NULL);
	int good = 0;
	for (char *line = text, *nl; text && (nl = strchr(line, '\n')); line = nl + 1) {
		*nl = '\0';
		struct service_record rec;
		char err[160];
		if (import_vigil_line(line, strlen(line), &rec, err, sizeof(err)) < 0)
			continue;
		struct strbuf sb;
		strbuf_init(&sb);
		record_to_json(&rec, &sb);
		CHECK(sb.len == strlen(line) + 1 && memcmp(sb.data, line, sb.len - 1) == 0);
		strbuf_free(&sb);
		record_free(&rec);
		good++;
	}
	CHECK(good == 4);
	free(text);
	got_free(&g);
}

/* Serialise rec, parse it back, serialise again: both must be identical. */
static bool round_trip(const struct service_record *rec)
{
	struct strbuf a, b;
	strbuf_init(&a);
	strbuf_init(&b);
	record_to_json(rec, &a);
	struct service_record back;
	char err[160];
	bool ok = import_vigil_line(a.data, a.len, &back, err, sizeof(err)) == 0;
	if (!ok) {
		printf("#   cannot parse %s: %s\n", a.data, err);
	} else {
		record_to_json(&back, &b);
		ok = a.len == b.len && memcmp(a.data, b.data, a.len) == 0;
		if (!ok)
			printf("#   round trip differs:\n#   %s#   %s", a.data, b.data);
		ok = ok && back.ip == rec->ip && back.port == rec->port && back.timestamp == rec->timestamp &&
		     back.banner_len == rec->banner_len &&
		     (!rec->banner || memcmp(back.banner, rec->banner, rec->banner_len) == 0) &&
		     back.vulns.n == rec->vulns.n;
		record_free(&back);
	}
	strbuf_free(&a);
	strbuf_free(&b);
	return ok;
}

TEST(import_vigil_round_trip_generated)
{
	struct service_record r;
	/* layer 4 only */
	record_init(&r, ip4(198, 19, 255, 254), 65535, 4102444799);
	CHECK(round_trip(&r));
	record_free(&r);
	/* everything set, with hostile strings */
	record_init(&r, ip4(192, 0, 2, 1), 443, 1735689600);
	r.probed = r.has_tls = r.tls.have_cert = r.has_http = r.has_toolshell = true;
	snprintf(r.tls.version, sizeof(r.tls.version), "TLSv1.2");
	snprintf(r.tls.cipher, sizeof(r.tls.cipher), "ECDHE-RSA-AES256-GCM-SHA384");
	record_set(&r.tls.subject_cn, "\xe6\x97\xa5\xe6\x9c\xac.example \"quoted\" \\ back");
	strlist_add(&r.tls.sans, "a.example");
	strlist_add(&r.tls.sans, "\xf0\x9f\x94\x92.example");
	snprintf(r.tls.not_before, sizeof(r.tls.not_before), "invalid");
	snprintf(r.tls.not_after, sizeof(r.tls.not_after), "2030-12-31T23:59:59Z");
	snprintf(r.tls.sha256, sizeof(r.tls.sha256), "%064d", 7);
	r.http.status = 503;
	record_set(&r.http.title, "T\xe9l\xe9" "com \x01\x1f\x7f </title>");
	record_set(&r.http.server, "");
	record_set(&r.http.location, "https://x.example/?a=1&b=\"2\"");
	strlist_add(&r.http.header_names, "X-Bytes");
	strlist_add(&r.http.header_values, "\xc3\x28 \xa0\xa1 \xed\xa0\x80 \xf4\x90\x80\x80");
	strlist_add(&r.http.header_names, "Empty");
	strlist_add(&r.http.header_values, "");
	snprintf(r.http.body_sha256, sizeof(r.http.body_sha256), "%064d", 0);
	r.http.body_len = 1048576;
	r.http.body_truncated = true;
	r.http.have_favicon = true;
	r.http.favicon_hash = INT32_MIN;
	record_set(&r.error, "tls: handshake failure");
	record_set(&r.country, "NL");
	r.asn = UINT32_MAX;
	record_set(&r.org, "Org \"with\" quotes");
	record_set(&r.product, "SharePoint");
	record_set(&r.edition, "2019");
	record_set(&r.version, "16.0.10417.20037");
	record_set(&r.version_source, "service.cnf");
	record_set(&r.verdict, "compromised");
	r.compromised = TRI_TRUE;
	strlist_add(&r.evidence, "line one\nline two");
	strlist_add(&r.vulns, "CVE-2025-53770");
	uint8_t all[256];
	for (int i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	r.banner = xmalloc(sizeof(all));
	memcpy(r.banner, all, sizeof(all));
	r.banner_len = sizeof(all);
	CHECK(round_trip(&r));
	/* toolshell with a NULL verdict and null compromised, no cert */
	record_set(&r.verdict, NULL);
	r.compromised = TRI_NULL;
	r.tls.have_cert = false;
	r.http.have_favicon = false;
	CHECK(round_trip(&r));
	record_free(&r);
	/* random banners and titles */
	uint32_t seed = 12345;
	int fails = 0;
	for (int k = 0; k < 500; k++) {
		record_init(&r, seed, (uint16_t)(1 + k), k);
		size_t n = (seed >> 8) % 200;
		r.banner = xmalloc(n + 1);
		char title[64];
		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245 + 12345;
			r.banner[i] = (uint8_t)(seed >> 16);
		}
		for (size_t i = 0; i < sizeof(title) - 1; i++) {
			seed = seed * 1103515245 + 12345;
			title[i] = (char)((seed >> 16) % 255 + 1);
		}
		title[sizeof(title) - 1] = '\0';
		r.banner_len = n;
		r.has_http = true;
		record_set(&r.http.title, title);
		if (!round_trip(&r))
			fails++;
		record_free(&r);
	}
	CHECK(fails == 0);
}

static int vigil_err(const char *line, char *err, size_t errlen)
{
	struct service_record rec;
	int rc = import_vigil_line(line, strlen(line), &rec, err, errlen);
	if (rc == 0)
		record_free(&rec);
	return rc;
}

TEST(import_vigil_bad_lines)
{
	static const struct {
		const char *line;
		const char *why;
	} bad[] = {
		{"", "invalid JSON"},
		{"[1,2]", "the line is not a JSON object"},
		{"{\"port\":80,\"timestamp\":\"2025-01-01T00:00:00Z\"}", "ip is missing"},
		{"{\"ip\":\"198.18.0.1\",\"timestamp\":\"2025-01-01T00:00:00Z\"}", "port is missing"},
		{"{\"ip\":\"198.18.0.1\",\"port\":0,\"timestamp\":\"2025-01-01T00:00:00Z\"}", "port is not"},
		{"{\"ip\":\"198.18.0.1\",\"port\":65536,\"timestamp\":\"2025-01-01T00:00:00Z\"}", "port is not"},
		{"{\"ip\":\"198.18.0.1\",\"port\":\"80\",\"timestamp\":\"2025-01-01T00:00:00Z\"}", "port is not"},
		{"{\"ip\":\"198.18.0.1\",\"port\":80.5,\"timestamp\":\"2025-01-01T00:00:00Z\"}", "port is not"},
		{"{\"ip\":\"198.18.0.256\",\"port\":80,\"timestamp\":\"2025-01-01T00:00:00Z\"}", "ip is not an IPv4"},
		{"{\"ip\":\"::1\",\"port\":80,\"timestamp\":\"2025-01-01T00:00:00Z\"}", "IPv6 not supported yet"},
		{"{\"ip\":\"198.18.0.1\",\"port\":80,\"transport\":\"udp\",\"timestamp\":\"2025-01-01T00:00:00Z\"}",
		 "transport udp not supported"},
		{"{\"ip\":\"198.18.0.1\",\"port\":80}", "timestamp is missing"},
		{"{\"ip\":\"198.18.0.1\",\"port\":80,\"timestamp\":\"2025-13-01T00:00:00Z\"}", "timestamp is not"},
		{"{\"ip\":\"198.18.0.1\",\"port\":80,\"timestamp\":\"2025-01-01T00:00:00Z\"} x", "text after the record"},
		{"{\"ip\":\"198.18.0.1\",\"port\":80,\"timestamp\":\"2025-01-01T00:00:00Z\",\"tls\":{\"version\":"
		 "\"TLSv1.3-with-a-very-long-name\"}}",
		 "tls.version is too long"},
		{"{\"ip\":\"198.18.0.1\",\"port\":80,\"timestamp\":\"2025-01-01T00:00:00Z\",\"http\":{\"headers\":[[\"a\"]]}}",
		 "http.headers entries"},
		{"{\"ip\":\"198.18.0.1\",\"port\":80,\"timestamp\":\"2025-01-01T00:00:00Z\",\"banner\":\"a\x01\"}",
		 "invalid JSON"},  /* a raw control character */
		{"{\"ip\":\"198.18.0.1\",\"port\":80,\"timestamp\":\"2025-01-01T00:00:00Z\",\"asn\":-1}", "asn is not"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[160] = "";
		int rc = vigil_err(bad[i].line, err, sizeof(err));
		bool ok = rc < 0 && strstr(err, bad[i].why) != NULL;
		if (!ok)
			printf("#   bad[%zu]: rc %d err '%s', expected '%s'\n", i, rc, err, bad[i].why);
		CHECK(ok);
	}
	/* accepted variations: blanks, CRLF, unknown keys, escapes, repeated keys (last wins) */
	char err[160];
	struct service_record rec;
	const char *ok = " {\"ip\" : \"198.18.0.1\", \"port\":8080, \"x\":{\"y\":[1,2.5e3,null]}, \"timestamp\":"
			 "\"2025-01-01T01:00:00+01:00\", \"title\":\"\\u00e9\\ud83d\\udd12\", \"port\":81}\r\n";
	CHECK(import_vigil_line(ok, strlen(ok), &rec, err, sizeof(err)) == 0);
	CHECK(rec.port == 81 && rec.timestamp == 1735689600 && !rec.probed);
	record_free(&rec);
}

/* ---- masscan ---- */

TEST(import_masscan_json_sample)
{
	struct got g;
	struct import_report rep;
	CHECK(run_file(DATA "masscan.json", IMPORT_MASSCAN_JSON, 0, &g, &rep) == 0);
	CHECK(rep.records == 3 && g.n == 3);
	CHECK(rep.bad_lines == 2);
	CHECK(err_is(&rep, 0, "line 5: invalid JSON: expected ',' or '}'"));
	CHECK(err_is(&rep, 1, "line 9: IPv6 not supported yet"));
	if (g.n == 3) {
		/* in order of first appearance, banners merged in */
		CHECK(g.r[0].ip == ip4(198, 18, 0, 10) && g.r[0].port == 80 && g.r[0].ts == 1735689600);
		CHECK(has(&g.r[0], "\"http\":{\"status\":200,\"title\":\"Welcome to nginx!\",\"server\":\"nginx/1.22.1\""));
		CHECK(has(&g.r[0], "[\"Content-Type\",\"text/html\"]"));
		CHECK(has(&g.r[0], "\"banner\":\"HTTP/1.1 200 OK\\r\\nServer: nginx/1.22.1\\r\\n"));
		CHECK(g.r[1].ip == ip4(198, 18, 0, 10) && g.r[1].port == 443 && !g.r[1].probed);
		CHECK(g.r[2].ip == ip4(198, 18, 0, 11) && g.r[2].port == 22);
		CHECK(g.r[2].banner && strcmp(g.r[2].banner, "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3") == 0);
	}
	got_free(&g);

	/* current masscan: commas on their own line; killed, so no "]" */
	CHECK(run_file(DATA "masscan-new.json", IMPORT_MASSCAN_JSON, 0, &g, &rep) == 0);
	CHECK(rep.records == 2 && g.n == 2);
	CHECK(g.n == 2 && g.r[0].ip == ip4(192, 0, 2, 1) && g.r[0].port == 25);
	CHECK(g.n == 2 && g.r[1].ip == ip4(192, 0, 2, 3) && g.r[1].port == 3389 && g.r[1].ts == 1735689601);
	CHECK(rep.bad_lines == 2);
	CHECK(err_is(&rep, 0, "line 4: proto udp not supported"));
	CHECK(err_is(&rep, 1, "line 8: JSON object not closed"));
	got_free(&g);
}

TEST(import_masscan_json_shapes)
{
	struct got g;
	struct import_report rep;
	/* one line, compact */
	CHECK(run_mem("[{\"ip\":\"192.0.2.1\",\"timestamp\":\"5\",\"ports\":[{\"port\":1,\"proto\":\"tcp\",\"status\":"
		      "\"open\"},{\"port\":2,\"proto\":\"tcp\",\"status\":\"closed\"}]},{\"ip\":\"192.0.2.2\",\"ports\":[{"
		      "\"port\":3,\"status\":\"open\"}]}]",
		      IMPORT_MASSCAN_JSON, 0, &g, &rep) == 0);
	CHECK(rep.records == 2 && rep.bad_lines == 0 && rep.skipped == 1);
	CHECK(g.n == 2 && g.r[0].port == 1 && g.r[0].ts == 5 && g.r[1].port == 3);
	got_free(&g);
	/* pretty-printed (jq), with a broken object in the middle */
	const char *pretty = "[\n"
			     "  {\n"
			     "    \"ip\": \"192.0.2.1\",\n"
			     "    \"timestamp\": \"1\",\n"
			     "    \"ports\": [\n"
			     "      {\"port\": 80, \"proto\": \"tcp\", \"status\": \"open\"}\n"
			     "    ]\n"
			     "  },\n"
			     "  {\n"
			     "    \"ip\": \"192.0.2.2\",\n"
			     "    \"ports\": [ {\"port\": 81, \"proto\": \"tcp\", \"status\": \"open\"\n"
			     "  },\n"
			     "  {\n"
			     "    \"ip\": \"192.0.2.3\", \"timestamp\": 7,\n"
			     "    \"ports\": [ {\"port\": 82, \"proto\": \"tcp\", \"status\": \"open\"} ]\n"
			     "  }\n"
			     "]\n";
	CHECK(run_mem(pretty, IMPORT_MASSCAN_JSON, 0, &g, &rep) == 0);
	CHECK(rep.records == 2 && g.n == 2);
	CHECK(g.n == 2 && g.r[0].port == 80 && g.r[1].port == 82 && g.r[1].ts == 7);
	CHECK(rep.bad_lines >= 1 && err_is(&rep, 0, "line 9: JSON object not closed"));
	CHECK(err_is(&rep, 1, "line 10: expected '{'"));
	got_free(&g);
	/* masscan -oD (NDJSON) with a banner record */
	const char *nd = "{\"ip\":\"192.0.2.9\",\"timestamp\":\"1390380064\",\"port\":21,\"proto\":\"tcp\",\"rec_type\":"
			 "\"status\",\"data\":{\"status\":\"open\",\"reason\":\"syn-ack\",\"ttl\":54}}\n"
			 "{\"ip\":\"192.0.2.9\",\"timestamp\":\"1390380066\",\"port\":21,\"proto\":\"tcp\",\"rec_type\":"
			 "\"banner\",\"data\":{\"service_name\":\"ftp\",\"banner\":\"220 FTP ready\\u000d\\u000a\\u00ff\"}}\n";
	CHECK(run_mem(nd, IMPORT_MASSCAN_JSON, 0, &g, &rep) == 0);
	CHECK(rep.records == 1 && rep.bad_lines == 0 && g.n == 1);
	CHECK(g.n == 1 && g.r[0].port == 21 && g.r[0].ts == 1390380064 && g.r[0].banner_len == 16 &&
	      memcmp(g.r[0].banner, "220 FTP ready\r\n\xff", 16) == 0);
	got_free(&g);
	/* garbage between objects, bad fields */
	const char *junk = "[\n"
			   "hello\n"
			   "{\"ip\": 5, \"ports\": []}\n"
			   "{\"ip\": \"192.0.2.1\"}\n"
			   "{\"ip\": \"192.0.2.1\", \"timestamp\": \"x\", \"ports\": []}\n"
			   "{\"ip\": \"192.0.2.1\", \"ports\": [ {\"port\": 0, \"proto\": \"tcp\", \"status\": \"open\"},"
			   " {\"port\": 99999}, 7, {\"port\": 5} ]}\n"
			   "{\"ip\": \"192.0.2.1\", \"ports\": [ {\"port\": 6, \"status\": \"open\"} ]}\n";
	CHECK(run_mem(junk, IMPORT_MASSCAN_JSON, 0, &g, &rep) == 0);
	CHECK(rep.records == 1 && g.n == 1 && g.r[0].port == 6);
	CHECK(rep.bad_lines == 8);
	CHECK(err_is(&rep, 0, "line 2: expected '{'"));
	CHECK(err_is(&rep, 1, "line 3: ip is not a string"));
	CHECK(err_is(&rep, 2, "line 4: no ports"));
	CHECK(err_is(&rep, 3, "line 5: timestamp is not unix seconds"));
	CHECK(err_is(&rep, 4, "line 6: port 0"));
	got_free(&g);
}

TEST(import_masscan_list_sample)
{
	struct got g;
	struct import_report rep;
	CHECK(run_file(DATA "masscan.txt", IMPORT_MASSCAN_LIST, 0, &g, &rep) == 0);
	CHECK(rep.records == 3 && g.n == 3);
	CHECK(rep.bad_lines == 3);
	CHECK(err_is(&rep, 0, "line 8: proto udp not supported"));
	CHECK(err_is(&rep, 1, "line 9: bad port"));
	CHECK(err_is(&rep, 2, "line 10: expected 'open PROTO PORT IP TIMESTAMP'"));
	if (g.n == 3) {
		CHECK(g.r[0].ip == ip4(198, 18, 0, 20) && g.r[0].port == 80 && g.r[0].ts == 1735689600);
		CHECK(has(&g.r[0], "\"http\":{\"status\":301,\"title\":\"301 Moved Permanently\",\"server\":"
				   "\"Microsoft-IIS/10.0\",\"location\":\"https://www.example.com/\""));
		CHECK(g.r[0].banner && strncmp(g.r[0].banner, "HTTP/1.1 301 Moved Permanently\r\nLocation: ", 42) == 0);
		CHECK(g.r[1].port == 443 && !g.r[1].probed);
		CHECK(g.r[2].ip == ip4(198, 18, 0, 21) && g.r[2].port == 22 &&
		      strcmp(g.r[2].banner, "SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.10") == 0);
	}
	got_free(&g);
	/* TLS banners, escapes, a banner before (without) its open line */
	CHECK(run_mem("banner tcp 443 192.0.2.1 1390380064 ssl TLS/1.2 cipher:0xc02f, www.example.com\n"
		      "banner tcp 443 192.0.2.1 1390380064 X509 MIIB...\n"
		      "banner tcp 25 192.0.2.1 1390380065 smtp 220 mail \\x3cESMTP\\x3e\\xff\\xZZ\n"
		      "banner tcp 993 192.0.2.1 1390380066 ssl SSLv3 cipher:0x5\n"
		      "open tcp 25 192.0.2.1 1390380063\n",
		      IMPORT_MASSCAN_LIST, 0, &g, &rep) == 0);
	CHECK(rep.records == 3 && rep.bad_lines == 0 && g.n == 3);
	CHECK(g.n == 3 && has(&g.r[0], "\"tls\":{\"version\":\"TLSv1.2\",\"cipher\":\"\"}") && !g.r[0].banner);
	CHECK(g.n == 3 && g.r[1].port == 25 && g.r[1].ts == 1390380065 && g.r[1].banner_len == 21 &&
	      memcmp(g.r[1].banner, "220 mail <ESMTP>\xff\\xZZ", 21) == 0);
	CHECK(g.n == 3 && has(&g.r[2], "\"version\":\"SSLv3\""));
	got_free(&g);
	/* more services than the merge window: all come out, in order */
	struct strbuf sb;
	strbuf_init(&sb);
	for (int i = 0; i < 10000; i++)
		strbuf_printf(&sb, "open tcp %d 198.18.%d.%d 1390380064\n", 1 + i % 3, i / 256, i % 256);
	for (int i = 9990; i < 10000; i++)
		strbuf_printf(&sb, "banner tcp %d 198.18.%d.%d 1390380065 ssh SSH-2.0-x\n", 1 + i % 3, i / 256, i % 256);
	strbuf_printf(&sb, "banner tcp 1 198.18.0.0 1390380066 ssh SSH-2.0-late\n");
	memset(&g, 0, sizeof(g));
	char err[160];
	CHECK(import_buffer((const uint8_t *)sb.data, sb.len, IMPORT_MASSCAN_LIST, 0, collect, &g, &rep, err,
			    sizeof(err)) == 0);
	CHECK(rep.records == 10001 && rep.bad_lines == 0);
	CHECK(g.n == MAX_GOT && g.r[0].ip == ip4(198, 18, 0, 0) && g.r[1].ip == ip4(198, 18, 0, 1));
	got_free(&g);
	strbuf_free(&sb);
}

/* ---- ZMap ---- */

TEST(import_zmap_csv_sample)
{
	struct got g;
	struct import_report rep;
	CHECK(run_file(DATA "zmap.csv", IMPORT_ZMAP_CSV, 0, &g, &rep) == 0);
	CHECK(rep.records == 2 && g.n == 2);
	CHECK(rep.skipped == 2);
	CHECK(rep.bad_lines == 2);
	CHECK(err_is(&rep, 0, "line 6: saddr is not an IPv4 address"));
	CHECK(err_is(&rep, 1, "line 7: expected 14 fields, got 3"));
	CHECK(g.n == 2 && g.r[0].ip == ip4(198, 18, 1, 1) && g.r[0].port == 443 && g.r[0].ts == 1735689600);
	CHECK(g.n == 2 && g.r[1].ip == ip4(198, 18, 1, 3) && g.r[1].port == 443 && g.r[1].ts == 1735689601);
	got_free(&g);
	/* timestamp_str only, quoted fields, columns in another order */
	CHECK(run_mem("sport,\"saddr\",timestamp_str\n8080,\"192.0.2.7\",2025-01-01T01:00:00.500+0100\n"
		      "\"80\",192.0.2.8,\n81,192.0.2.9,yesterday\n82,\"192.0.2.10\n",
		      IMPORT_AUTO, 0, &g, &rep) == 0);
	CHECK(rep.format == IMPORT_ZMAP_CSV && rep.records == 2 && rep.bad_lines == 2);
	CHECK(g.n == 2 && g.r[0].port == 8080 && g.r[0].ts == 1735689600 && g.r[1].port == 80 && g.r[1].ts == 0);
	CHECK(err_is(&rep, 0, "line 4: timestamp_str is not"));
	CHECK(err_is(&rep, 1, "line 5: broken CSV quoting"));
	got_free(&g);
	/* header with saddr only: the default port */
	CHECK(run_mem("saddr\n192.0.2.1\n", IMPORT_ZMAP_CSV, 25, &g, &rep) == 0);
	CHECK(rep.records == 1 && g.n == 1 && g.r[0].port == 25);
	got_free(&g);
}

TEST(import_zmap_plain)
{
	struct got g;
	struct import_report rep;
	struct stat st;
	CHECK(stat(DATA "zmap-plain.txt", &st) == 0);
	CHECK(run_file(DATA "zmap-plain.txt", IMPORT_AUTO, 8443, &g, &rep) == 0);
	CHECK(rep.format == IMPORT_ZMAP_CSV);
	CHECK(rep.records == 4 && g.n == 4 && rep.bad_lines == 1);
	CHECK(err_is(&rep, 0, "line 4: saddr is not an IPv4 address"));
	CHECK(g.n == 4 && g.r[0].ip == ip4(198, 18, 2, 1) && g.r[0].port == 8443 && g.r[0].ts == st.st_mtime);
	CHECK(g.n == 4 && g.r[3].ip == ip4(198, 18, 2, 5));
	got_free(&g);
	/* no port anywhere: every line is an error */
	CHECK(run_file(DATA "zmap-plain.txt", IMPORT_ZMAP_CSV, 0, &g, &rep) == 0);
	CHECK(rep.records == 0 && rep.bad_lines == 5 && rep.nerrors == 5);
	CHECK(err_is(&rep, 0, "line 1: no sport column and no default port"));
	CHECK(err_is(&rep, 3, "line 4: saddr is not"));
	got_free(&g);
}

/* ---- Nmap ---- */

TEST(import_nmap_sample)
{
	struct got g;
	struct import_report rep;
	CHECK(run_file(DATA "nmap.xml", IMPORT_NMAP_XML, 0, &g, &rep) == 0);
	CHECK(rep.records == 3 && g.n == 3);
	CHECK(rep.bad_lines == 0 && rep.skipped == 2);
	if (g.n == 3) {
		CHECK(g.r[0].ip == ip4(192, 0, 2, 10) && g.r[0].port == 80 && g.r[0].ts == 1735689601);
		CHECK(has(&g.r[0], "\"http\":{\"status\":0,\"title\":\"Welcome to nginx!\",\"server\":\"nginx/1.22.1\","
				   "\"headers\":[[\"Server\",\"nginx/1.22.1\"],[\"Date\",\"Wed, 01 Jan 2025 00:00:12 GMT\"],"
				   "[\"Content-Type\",\"text/html\"],[\"Content-Length\",\"615\"],[\"Connection\",\"close\"],"
				   "[\"ETag\",\"\\\"6578a1b2-267\\\"\"]]"));
		CHECK(has(&g.r[0], "\"product\":\"nginx\",\"version\":\"1.22.1\",\"version_source\":\"nmap\""));
		CHECK(g.r[1].port == 443);
		CHECK(has(&g.r[1], "\"tls\":{\"version\":\"\",\"cipher\":\"\",\"cert\":{\"subject_cn\":\"www.example.com\","
				   "\"sans\":[\"www.example.com\",\"example.com\"],\"issuer_cn\":\"Example Issuing CA\","
				   "\"not_before\":\"2024-12-01T00:00:00Z\",\"not_after\":\"2025-03-01T23:59:59Z\""));
		CHECK(has(&g.r[1], "\"location\":\"https://www.example.com/\""));
		CHECK(!strstr(g.r[1].json, "\"title\""));
		CHECK(g.r[2].ip == ip4(192, 0, 2, 11) && g.r[2].port == 22 && g.r[2].ts == 1735689602);
		CHECK(g.r[2].banner && strcmp(g.r[2].banner, "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3") == 0);
		CHECK(has(&g.r[2], "\"product\":\"OpenSSH\",\"version\":\"9.2p1 Debian 2+deb12u3\""));
	}
	got_free(&g);
}

TEST(import_nmap_hostile)
{
	struct got g;
	struct import_report rep;
	/* an entity declared in the DOCTYPE (XXE / billion laughs): refused */
	CHECK(run_mem("<?xml version=\"1.0\"?>\n<!DOCTYPE nmaprun [\n<!ENTITY x SYSTEM \"file:///etc/passwd\">\n]>\n"
		      "<nmaprun><host><address addr=\"192.0.2.1\" addrtype=\"ipv4\"/><ports><port protocol=\"tcp\" "
		      "portid=\"80\"><state state=\"open\"/><script id=\"banner\" output=\"&x;\"/></port></ports></host>"
		      "</nmaprun>\n",
		      IMPORT_NMAP_XML, 0, &g, &rep) == 0);
	CHECK(rep.records == 0 && rep.bad_lines == 1);
	CHECK(err_is(&rep, 0, "line 2: DOCTYPE with declarations"));
	got_free(&g);
	CHECK(run_mem("<?xml version=\"1.0\"?>\n<!DOCTYPE nmaprun SYSTEM \"http://192.0.2.1/x.dtd\">\n<nmaprun/>\n",
		      IMPORT_NMAP_XML, 0, &g, &rep) == 0);
	CHECK(rep.records == 0 && rep.bad_lines == 1);
	got_free(&g);
	/* an undeclared entity is a well-formedness error; what was read before
	 * it is kept (libxml2's reader parses 512-byte chunks ahead, so the
	 * ports in the same chunk as the error are lost) */
	struct strbuf sb;
	strbuf_init(&sb);
	strbuf_adds(&sb, "<nmaprun><host><address addr=\"192.0.2.1\" addrtype=\"ipv4\"/><ports><port protocol=\"tcp\" "
			 "portid=\"80\"><state state=\"open\"/></port>\n<!-- ");
	for (int i = 0; i < 40; i++)
		strbuf_adds(&sb, "padding padding padding padding padding padding padding padding\n");
	strbuf_adds(&sb, "-->\n<port protocol=\"tcp\" portid=\"81\"><state state=\"open\"/><script id=\"banner\" "
			 "output=\"&x;\"/></port></ports></host></nmaprun>\n");
	CHECK(run_mem(sb.data, IMPORT_NMAP_XML, 0, &g, &rep) == 0);
	strbuf_free(&sb);
	CHECK(rep.records == 1 && g.n == 1 && g.r[0].port == 80);
	CHECK(rep.bad_lines == 1 && err_is(&rep, 0, "line 43: XML: Entity 'x' not defined"));
	got_free(&g);
	/* a long prolog is refused rather than parsed */
	strbuf_init(&sb);
	strbuf_adds(&sb, "<?xml version=\"1.0\"?>\n");
	for (int i = 0; i < 2000; i++)
		strbuf_adds(&sb, "<!-- comment comment comment comment -->\n");
	strbuf_adds(&sb, "<nmaprun/>\n");
	CHECK(run_mem(sb.data, IMPORT_NMAP_XML, 0, &g, &rep) == 0);
	CHECK(rep.records == 0 && rep.bad_lines == 1 && err_is(&rep, 0, "line 1599: XML prolog longer than 64 KiB"));
	strbuf_free(&sb);
	got_free(&g);
	/* truncated file (Nmap killed): what came before is kept */
	CHECK(run_mem("<?xml version=\"1.0\"?>\n<nmaprun start=\"100\">\n<host><address addr=\"192.0.2.1\" "
		      "addrtype=\"ipv4\"/><ports><port protocol=\"tcp\" portid=\"443\"><state state=\"open\"/></port>\n"
		      "<port protocol=\"tcp\" portid=\"444\"><state state=\"op",
		      IMPORT_AUTO, 0, &g, &rep) == 0);
	CHECK(rep.format == IMPORT_NMAP_XML && rep.records == 1 && g.n == 1 && g.r[0].port == 443 && g.r[0].ts == 100);
	CHECK(rep.bad_lines == 1);
	got_free(&g);
	/* IPv6 host, UDP port, bad portid, port without address */
	CHECK(run_mem("<nmaprun>\n<host><address addr=\"2001:db8::1\" addrtype=\"ipv6\"/><ports>\n<port protocol=\"tcp\" "
		      "portid=\"80\"><state state=\"open\"/></port></ports></host>\n<host><address addr=\"192.0.2.2\" "
		      "addrtype=\"ipv4\"/><ports>\n<port protocol=\"udp\" portid=\"53\"><state state=\"open\"/></port>\n"
		      "<port protocol=\"tcp\" portid=\"0\"><state state=\"open\"/></port>\n<port protocol=\"tcp\" "
		      "portid=\"22\"><state state=\"open\"/></port></ports></host>\n<host><ports>\n<port protocol=\"tcp\" "
		      "portid=\"23\"><state state=\"open\"/></port></ports></host>\n</nmaprun>\n",
		      IMPORT_NMAP_XML, 0, &g, &rep) == 0);
	CHECK(rep.records == 1 && g.n == 1 && g.r[0].port == 22);
	CHECK(rep.bad_lines == 4);
	CHECK(err_is(&rep, 0, "line 3: IPv6 not supported yet"));
	CHECK(err_is(&rep, 1, "line 5: only TCP ports are imported"));
	CHECK(err_is(&rep, 2, "line 6: portid is not a port number"));
	CHECK(err_is(&rep, 3, "line 9: the host has no valid IPv4 address"));
	got_free(&g);
}

TEST(import_nmap_quiet)
{
	/* libxml2's own messages (encoding errors) go to the report, not stderr */
	char path[] = "/tmp/vigil-import-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	fflush(stderr);
	int saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	struct got g;
	struct import_report rep;
	CHECK(run_mem("<?xml version=\"1.0\" encoding=\"EUC-JP\"?>\n<nmaprun>\n<x a=\"\x97\x6c\x22\x20\"/></nmaprun>\n",
		      IMPORT_NMAP_XML, 0, &g, &rep) == 0);
	CHECK(rep.bad_lines == 1 && err_is(&rep, 0, "line 3: XML: "));
	got_free(&g);
	CHECK(run_mem("<?xml version=\"1.0\" encoding=\"no-such-charset\"?>\n<nmaprun/>", IMPORT_NMAP_XML, 0, &g, &rep) ==
	      0);
	CHECK(rep.bad_lines == 1 && err_is(&rep, 0, "line 1: XML: Unsupported encoding"));
	got_free(&g);
	char err[160];
	memset(&g, 0, sizeof(g));
	CHECK(import_buffer((const uint8_t *)"<\0\0\0(", 5, IMPORT_NMAP_XML, 0, collect, &g, &rep, err, sizeof(err)) == 0);
	CHECK(rep.records == 0 && rep.bad_lines == 1);  /* UCS-4 by its first bytes, then broken */
	got_free(&g);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	struct stat st;
	CHECK(fstat(fd, &st) == 0 && st.st_size == 0);
	close(fd);
	unlink(path);
}

TEST(import_masscan_xml)
{
	/* masscan -oX: one <host> per report, banners as <service banner=>, merged */
	const char *x = "<?xml version=\"1.0\"?>\r\n<!-- masscan v1.0 scan -->\r\n"
			"<nmaprun scanner=\"masscan\" start=\"1390380064\" version=\"1.0-BETA\"  "
			"xmloutputversion=\"1.03\">\r\n<scaninfo type=\"syn\" protocol=\"tcp\" />\r\n"
			"<host endtime=\"1390380064\"><address addr=\"192.0.2.5\" addrtype=\"ipv4\"/><ports><port "
			"protocol=\"tcp\" portid=\"80\"><state state=\"open\" reason=\"syn-ack\" reason_ttl=\"64\"/></port>"
			"</ports></host>\r\n"
			"<host endtime=\"1390380070\"><address addr=\"192.0.2.5\" addrtype=\"ipv4\"/><ports><port "
			"protocol=\"tcp\" portid=\"80\"><state state=\"open\" reason=\"response\" reason_ttl=\"64\"/><service "
			"name=\"title\" banner=\"It works\\x21\"></service></port></ports></host>\r\n"
			"<runstats>\r\n<finished time=\"1390380080\" timestr=\"2014-01-22 10:41:20\" elapsed=\"16\" />\r\n"
			"<hosts up=\"1\" down=\"0\" total=\"1\" />\r\n</runstats>\r\n</nmaprun>\r\n";
	struct got g;
	struct import_report rep;
	CHECK(run_mem(x, IMPORT_AUTO, 0, &g, &rep) == 0);
	CHECK(rep.format == IMPORT_NMAP_XML && rep.records == 1 && rep.bad_lines == 0);
	CHECK(g.n == 1 && g.r[0].ts == 1390380064 && has(&g.r[0], "\"title\":\"It works!\""));
	got_free(&g);
}

/* ---- Shodan ---- */

TEST(import_shodan_sample)
{
	struct got g;
	struct import_report rep;
	CHECK(run_file(DATA "shodan.jsonl", IMPORT_SHODAN, 0, &g, &rep) == 0);
	CHECK(rep.records == 3 && g.n == 3);
	CHECK(rep.bad_lines == 2);
	CHECK(err_is(&rep, 0, "line 3: invalid JSON at byte 181: unexpected end"));
	CHECK(err_is(&rep, 1, "line 5: IPv6 not supported yet"));
	if (g.n == 3) {
		const struct got_rec *r = &g.r[0];
		CHECK(r->ip == ip4(198, 18, 3, 20) && r->port == 80 && r->ts == 1735701247);
		CHECK(has(r, "\"http\":{\"status\":200,\"title\":\"Welcome to nginx!\",\"server\":\"nginx/1.18.0 (Ubuntu)\","
			     "\"headers\":[[\"Server\",\"nginx/1.18.0 (Ubuntu)\"],"));
		CHECK(has(r, "[\"ETag\",\"\\\"5e9efe7d-264\\\"\"],[\"Accept-Ranges\",\"bytes\"]]"));
		CHECK(has(r, "\"favicon_hash\":116323821"));
		CHECK(has(r, "\"country\":\"NL\",\"asn\":64496,\"org\":\"Example Hosting B.V.\",\"product\":\"nginx\","
			     "\"version\":\"1.18.0\",\"version_source\":\"shodan\""));
		CHECK(r->banner && strncmp(r->banner, "HTTP/1.1 200 OK\r\nServer: nginx", 30) == 0);
		r = &g.r[1];
		CHECK(r->ip == ip4(198, 18, 3, 21) && r->port == 443);
		CHECK(has(r, "\"tls\":{\"version\":\"TLSv1.3\",\"cipher\":\"TLS_AES_256_GCM_SHA384\",\"cert\":{\"subject_cn\":"
			     "\"portal.example.org\",\"sans\":[],\"issuer_cn\":\"Example TLS RSA CA G1\",\"not_before\":"
			     "\"2024-09-15T00:00:00Z\",\"not_after\":\"2025-09-15T23:59:59Z\",\"sha256\":"
			     "\"5c7d8e9f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5\"}}"));
		CHECK(has(r, "\"http\":{\"status\":302,\"title\":\"Document Moved\",\"server\":\"Microsoft-IIS/10.0\","
			     "\"location\":\"https://portal.example.org/_layouts/15/Authenticate.aspx?Source=%2F\""));
		CHECK(has(r, "\"country\":\"DE\",\"asn\":64511"));
		CHECK(strcmp(r->vulns, "CVE-2025-53770 CVE-2025-49704") == 0);
		r = &g.r[2];
		CHECK(r->ip == ip4(198, 18, 3, 22) && r->port == 22 && !strstr(r->json, "\"http\""));
		CHECK(r->banner && strncmp(r->banner, "SSH-2.0-OpenSSH_8.4p1 Debian-5+deb11u3\nKey type", 47) == 0);
	}
	got_free(&g);
	/* the integer ip, missing fields, non-TCP */
	CHECK(run_mem("{\"ip\": 3221225985, \"port\": 161, \"transport\": \"tcp\", \"timestamp\": \"2025-01-01T00:00:00\"}\n"
		      "{\"ip_str\": \"192.0.2.1\"}\n{\"port\": 80}\n"
		      "{\"ip_str\": \"192.0.2.1\", \"port\": 161, \"transport\": \"udp\"}\n",
		      IMPORT_SHODAN, 0, &g, &rep) == 0);
	CHECK(rep.records == 1 && g.n == 1 && g.r[0].ip == ip4(192, 0, 2, 1) && g.r[0].ts == 1735689600);
	CHECK(rep.bad_lines == 3 && err_is(&rep, 0, "line 2: no port") && err_is(&rep, 1, "line 3: no ip_str or ip") &&
	      err_is(&rep, 2, "line 4: transport udp not supported"));
	got_free(&g);
}

/* ---- general behaviour ---- */

TEST(import_errors_and_stop)
{
	struct got g;
	struct import_report rep;
	char err[256] = "";
	memset(&g, 0, sizeof(g));
	CHECK(import_file("tests/data/import/no-such-file", IMPORT_AUTO, 0, collect, &g, &rep, err, sizeof(err)) < 0);
	CHECK(strstr(err, "no-such-file") && strstr(err, "No such file"));
	CHECK(import_file("tests/data/import", IMPORT_VIGIL, 0, collect, &g, &rep, err, sizeof(err)) < 0);
	CHECK(strstr(err, "directory") != NULL);
	CHECK(import_buffer((const uint8_t *)"hello\n", 6, IMPORT_AUTO, 0, collect, &g, &rep, err, sizeof(err)) < 0);
	CHECK(strstr(err, "unknown file format") != NULL);
	CHECK(import_buffer((const uint8_t *)"", 0, IMPORT_AUTO, 0, collect, &g, &rep, err, sizeof(err)) < 0);
	CHECK(import_buffer((const uint8_t *)"\x1f\x8b\x08", 3, IMPORT_AUTO, 0, collect, &g, &rep, err, sizeof(err)) < 0);
	CHECK(strstr(err, "gunzip") != NULL);
	CHECK(import_buffer((const uint8_t *)"x", 1, (enum import_format)42, 0, collect, &g, &rep, err, sizeof(err)) < 0);
	/* an empty file in a given format is fine */
	CHECK(import_buffer((const uint8_t *)"", 0, IMPORT_VIGIL, 0, collect, &g, &rep, err, sizeof(err)) == 0);
	CHECK(rep.records == 0 && rep.bad_lines == 0);
	/* only five messages kept, all lines counted */
	CHECK(run_mem("a\nb\nc\nd\ne\nf\ng\n", IMPORT_SHODAN, 0, &g, &rep) == 0);
	CHECK(rep.bad_lines == 7 && rep.nerrors == 5 && err_is(&rep, 4, "line 5: "));
	got_free(&g);
	/* emit() asks to stop: -1, no more calls, for every format */
	static const char *const files[] = {"vigil.jsonl", "masscan.json", "masscan.txt", "zmap.csv", "nmap.xml",
					    "shodan.jsonl"};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[128];
		snprintf(path, sizeof(path), DATA "%s", files[i]);
		memset(&g, 0, sizeof(g));
		g.stop_after = 1;
		CHECK(import_file(path, IMPORT_AUTO, 0, collect, &g, &rep, err, sizeof(err)) < 0);
		CHECK(g.total == 1 && rep.records == 1);
		CHECK(strstr(err, "stopped") != NULL);
		got_free(&g);
	}
}

TEST(import_stdin)
{
	int saved = dup(STDIN_FILENO);
	int fd = open(DATA "masscan.txt", O_RDONLY);
	CHECK(saved >= 0 && fd >= 0);
	if (saved < 0 || fd < 0)
		return;
	dup2(fd, STDIN_FILENO);
	close(fd);
	struct got g;
	struct import_report rep;
	CHECK(run_file("-", IMPORT_AUTO, 0, &g, &rep) == 0);
	CHECK(rep.format == IMPORT_MASSCAN_LIST && rep.records == 3);
	got_free(&g);
	dup2(saved, STDIN_FILENO);
	close(saved);
}

static int count_only(void *arg, const struct service_record *rec)
{
	uint64_t *n = arg;
	(*n)++;
	return rec->port == 0;
}

TEST(import_large_file_streams)
{
	char path[] = "/tmp/vigil-import-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	FILE *f = fdopen(fd, "w");
	/* 10 MB of vigil lines, with one 5 MB line in the middle */
	uint64_t written = 0, lines = 0;
	while (written < (10u << 20)) {
		char line[256];
		int n = snprintf(line, sizeof(line),
				 "{\"ip\":\"198.18.%u.%u\",\"port\":%u,\"transport\":\"tcp\",\"timestamp\":"
				 "\"2025-01-01T00:00:00Z\",\"banner\":\"SSH-2.0-OpenSSH_9.2p1\"}\n",
				 (unsigned)(lines >> 8 & 255), (unsigned)(lines & 255), (unsigned)(1 + lines % 65535));
		fwrite(line, 1, (size_t)n, f);
		written += (uint64_t)n;
		lines++;
		if (lines == 1000) {
			fputs("{\"ip\":\"198.18.0.1\",\"port\":1,\"banner\":\"", f);
			for (int k = 0; k < 5 * 1024; k++) {
				static char kb[1024];
				memset(kb, 'A', sizeof(kb));
				fwrite(kb, 1, sizeof(kb), f);
			}
			fputs("\"}\n", f);
		}
	}
	fclose(f);
	uint64_t n = 0;
	struct import_report rep;
	char err[256];
	CHECK(import_file(path, IMPORT_AUTO, 0, count_only, &n, &rep, err, sizeof(err)) == 0);
	CHECK(rep.format == IMPORT_VIGIL);
	CHECK(n == lines && rep.records == lines);
	CHECK(rep.bad_lines == 1 && err_is(&rep, 0, "line 1001: line longer than"));
	unlink(path);
}
