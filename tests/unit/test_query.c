/* test_query.c - the search language: every filter's SQL and typed
 * parameters, quoting, negation, comma lists, malformed and hostile input,
 * both dialects, facets, suggestions, and the compiled SQL run for real
 * against an in-memory SQLite database with the docs/store.md schema. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/record.h"
#include "lib/strbuf.h"
#include "query/query.h"
#include "store/import.h"
#include "store/store.h"
#include "store/store_sqlite_int.h"
#include "test.h"

static struct query_sql Q;
static char E[QUERY_ERR_LEN];

static int comp_d(const char *text, const struct query_dialect *d)
{
	query_sql_free(&Q);
	E[0] = '\0';
	return query_compile(text, d, &Q, E, sizeof(E));
}

static int comp(const char *text)
{
	return comp_d(text, &query_dialect_sqlite);
}

static const char *W(void)
{
	return Q.where.data ? Q.where.data : "";
}

static bool has(const char *s)
{
	return strstr(W(), s) != NULL;
}

static bool where_is(const char *s)
{
	return strcmp(W(), s) == 0;
}

static bool pint(size_t k, int64_t v)
{
	return k < Q.nparams && Q.params[k].is_int && Q.params[k].i == v && !Q.params[k].s;
}

static bool pstr(size_t k, const char *s)
{
	return k < Q.nparams && !Q.params[k].is_int && Q.params[k].s && strcmp(Q.params[k].s, s) == 0;
}

/* The SQL text holds single quotes only in the fixed templates. */
static bool quotes_only_fixed(const char *sql)
{
	static const char *const fixed[] = {"ESCAPE '\\'", "'simple'",
					     "group_concat('\"srv' || id || '\"', ' OR '), '\"srvnone\"')"};
	for (const char *p = sql; *p; p++) {
		if (*p != '\'')
			continue;
		bool ok = false;
		for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]) && !ok; i++) {
			size_t n = strlen(fixed[i]);
			const char *q = strchr(fixed[i], '\'');
			size_t off = (size_t)(q - fixed[i]);
			/* this quote is the first quote of a fixed fragment */
			if ((size_t)(p - sql) >= off && strncmp(p - off, fixed[i], n) == 0) {
				p += n - off - 1;
				ok = true;
			}
		}
		if (!ok)
			return false;
	}
	return true;
}

/* SQLite: as many '?' as params. PostgreSQL: $1..$n in text order. */
static bool placeholders_ok(const struct query_dialect *d)
{
	const char *w = W();
	size_t k = 0;
	for (const char *p = w; *p; p++) {
		if (d == &query_dialect_sqlite && *p == '?') {
			k++;
		} else if (d == &query_dialect_postgres && *p == '$') {
			char *end;
			long v = strtol(p + 1, &end, 10);
			if (end == p + 1 || v != (long)(k + 1))
				return false;
			k++;
			p = end - 1;
		}
	}
	return k == Q.nparams;
}

TEST(query_empty)
{
	CHECK(comp("") == 0 && where_is("1=1") && Q.nparams == 0 && Q.nterms == 0);
	CHECK(comp(" \t\r\n  ") == 0 && where_is("1=1") && Q.nterms == 0);
	CHECK(comp(NULL) == 0 && where_is("1=1"));
	CHECK(comp("port:80") == 0 && Q.nterms == 1);
	query_sql_free(&Q);
	query_sql_free(&Q);  /* twice is harmless */
}

TEST(query_filter_ip_net)
{
	CHECK(comp("ip:198.19.0.8") == 0 && where_is("(ip = ?)") && Q.nparams == 1 && pint(0, 3323133960LL));
	CHECK(comp("ip:198.19.0.0/16") == 0 && where_is("(ip BETWEEN ? AND ?)") &&
	      pint(0, 3323133952LL) && pint(1, 3323199487LL));
	CHECK(comp("net:198.19.0.0/16") == 0 && where_is("(ip BETWEEN ? AND ?)") &&
	      pint(0, 3323133952LL) && pint(1, 3323199487LL));
	CHECK(comp("net:198.19.7.9/16") == 0 && pint(0, 3323133952LL) && pint(1, 3323199487LL));
	CHECK(comp("net:0.0.0.0/0") == 0 && pint(0, 0) && pint(1, 4294967295LL));
	CHECK(comp("net:255.255.255.255/32") == 0 && pint(0, 4294967295LL) && pint(1, 4294967295LL));
	CHECK(comp("net:198.19.0.8") == 0 && pint(0, 3323133960LL) && pint(1, 3323133960LL));
	CHECK(comp("ip:198.19.0.8,198.19.0.0/24") == 0 && where_is("(ip = ? OR ip BETWEEN ? AND ?)") && Q.nparams == 3);
}

TEST(query_filter_port_transport)
{
	CHECK(comp("port:80") == 0 && where_is("(port = ?)") && pint(0, 80));
	CHECK(comp("port:1") == 0 && pint(0, 1));
	CHECK(comp("port:65535") == 0 && pint(0, 65535));
	CHECK(comp("transport:TCP") == 0 && where_is("(lower(transport) = lower(?))") && pstr(0, "TCP"));
}

TEST(query_filter_text_equality)
{
	static const char *const cols[] = {"product", "version", "verdict", "org", "edition"};
	for (size_t i = 0; i < 5; i++) {
		char q[64], want[96];
		snprintf(q, sizeof(q), "%s:SharePoint", cols[i]);
		snprintf(want, sizeof(want), "(lower(%s) = lower(?))", cols[i]);
		CHECK(comp(q) == 0 && where_is(want) && Q.nparams == 1 && pstr(0, "SharePoint"));
	}
	CHECK(comp("PRODUCT:iis") == 0 && has("lower(product)"));  /* names are case-insensitive */
	CHECK(comp("org:\"Example GmbH\"") == 0 && pstr(0, "Example GmbH"));
	CHECK(comp("country:de") == 0 && where_is("(upper(country) = ?)") && pstr(0, "DE"));
	CHECK(comp("country:DE,fr") == 0 && where_is("(upper(country) = ? OR upper(country) = ?)") &&
	      pstr(0, "DE") && pstr(1, "FR"));
}

TEST(query_filter_substring)
{
	/* SQLite: titles of 3+ characters go through the trigram index (an
	 * FTS5 phrase of trigrams is exactly a substring; % and _ are plain
	 * characters there); Server headers through the dictionary of
	 * distinct values; anything else is a plain LIKE */
	CHECK(comp("title:Jenkins") == 0 &&
	      where_is("(services.id IN (SELECT rowid FROM services_tri WHERE services_tri MATCH ?))") &&
	      pstr(0, "http_title : \"Jenkins\""));
	CHECK(comp("http.title:\"Dashboard [Jenkins]\"") == 0 && has("services_tri MATCH") &&
	      pstr(0, "http_title : \"Dashboard [Jenkins]\""));
	CHECK(comp("server:iis") == 0 && has("services_tags MATCH") &&
	      has("FROM servers WHERE lower(text) LIKE lower(?) ESCAPE '\\'") && pstr(0, "%iis%"));
	CHECK(comp_d("server:iis", &query_dialect_postgres) == 0 &&
	      where_is("(lower(http_server) LIKE lower($1) ESCAPE '\\')") && pstr(0, "%iis%"));
	CHECK(comp_d("title:Jenkins", &query_dialect_postgres) == 0 &&
	      where_is("(lower(http_title) LIKE lower($1) ESCAPE '\\')") && pstr(0, "%Jenkins%"));
	CHECK(comp("title:ab") == 0 && where_is("(lower(http_title) LIKE lower(?) ESCAPE '\\')") && pstr(0, "%ab%"));
	CHECK(comp("title:%_") == 0 && where_is("(lower(http_title) LIKE lower(?) ESCAPE '\\')") && pstr(0, "%\\%\\_%"));
	CHECK(comp("title:50%_off") == 0 && pstr(0, "http_title : \"50%_off\""));
	CHECK(comp("ssl.cert.subject.cn:example.org") == 0 &&
	      where_is("(lower(cert_subject_cn) LIKE lower(?) ESCAPE '\\')") && pstr(0, "%example.org%"));
	CHECK(comp("ssl.cert.issuer.cn:\"Let's Encrypt\"") == 0 && has("lower(cert_issuer_cn) LIKE") && pstr(0, "%Let's Encrypt%"));
	CHECK(comp("ssl:example") == 0 &&
	      where_is("((lower(cert_subject_cn) LIKE lower(?) ESCAPE '\\' OR lower(cert_sans) LIKE lower(?) ESCAPE '\\'))") &&
	      pstr(0, "%example%") && pstr(1, "%example%"));
	/* LIKE metacharacters are escaped, not interpreted */
	CHECK(comp("org:%_\\") == 0 && pstr(0, "%_\\"));
	CHECK(comp("ssl.cert.subject.cn:%_\\") == 0 && pstr(0, "%\\%\\_\\\\%"));
	CHECK(comp("server:100%") == 0 && pstr(0, "%100\\%%"));
	CHECK(comp("title:%_\\") == 0 && pstr(0, "http_title : \"%_\\\""));
}

TEST(query_filter_numbers)
{
	CHECK(comp("http.status:200") == 0 && where_is("(http_status = ?)") && pint(0, 200));
	CHECK(comp("http.status:404,500") == 0 && pint(0, 404) && pint(1, 500));
	CHECK(comp("http.favicon.hash:-123") == 0 && where_is("(http_favicon_hash = ?)") && pint(0, -123));
	CHECK(comp("http.favicon.hash:116323821") == 0 && pint(0, 116323821));
	CHECK(comp("http.favicon.hash:-2147483648") == 0 && pint(0, -2147483648LL));
	CHECK(comp("http.favicon.hash:2147483647") == 0 && pint(0, 2147483647LL));
	CHECK(comp("asn:64496") == 0 && where_is("(asn = ?)") && pint(0, 64496));
	CHECK(comp("asn:AS64496") == 0 && pint(0, 64496));
	CHECK(comp("asn:as4294967295") == 0 && pint(0, 4294967295LL));
}

TEST(query_filter_cert_vuln_bool_scan)
{
	CHECK(comp("ssl.cert.fingerprint:AB:CD:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89") == 0 &&
	      where_is("(cert_sha256 = lower(?))") &&
	      pstr(0, "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"));
	CHECK(comp("vuln:cve-2025-53770") == 0 &&
	      where_is("(services.id IN (SELECT v.service_id FROM vulns v WHERE 1=1 AND upper(v.cve) = upper(?)))") &&
	      pstr(0, "CVE-2025-53770"));
	CHECK(comp("vuln:CVE-2014-0160,CVE-2025-1234567") == 0 && pstr(0, "CVE-2014-0160") && pstr(1, "CVE-2025-1234567"));
	CHECK(comp("compromised:true") == 0 && where_is("(compromised = 1)") && Q.nparams == 0);
	CHECK(comp("compromised:FALSE") == 0 && where_is("(compromised = 0)"));
	CHECK(comp("has_tls:true") == 0 && where_is("(has_tls = 1)"));
	CHECK(comp("has_tls:false") == 0 && where_is("(has_tls = 0)"));
	CHECK(comp("has_ssl:true") == 0 && where_is("(has_tls = 1)"));
	CHECK(comp("has_vuln:true") == 0 && where_is("(services.id IN (SELECT v.service_id FROM vulns v WHERE 1=1))"));
	CHECK(comp("has_vuln:false") == 0 && where_is("(NOT services.id IN (SELECT v.service_id FROM vulns v WHERE 1=1))"));
	CHECK(comp("scan:nightly") == 0 &&
	      where_is("(scan_id IN (SELECT id FROM scans WHERE name = ? OR CAST(id AS TEXT) = ?))") &&
	      pstr(0, "nightly") && pstr(1, "nightly"));
	CHECK(comp("scan:3") == 0 && pstr(0, "3") && pstr(1, "3"));
}

TEST(query_filter_time)
{
	CHECK(comp("before:2026-01-01") == 0 && where_is("(ts < ?)") && pint(0, 1767225600));
	CHECK(comp("after:2026-01-01T12:00:00Z") == 0 && where_is("(ts > ?)") && pint(0, 1767268800));
	CHECK(comp("after:2026-01-01t12:00:00.123456z") == 0 && pint(0, 1767268800));
	CHECK(comp("after:2026-01-01T12:00:00+02:00") == 0 && pint(0, 1767261600));
	CHECK(comp("after:2026-01-01T10:00:00-02:00") == 0 && pint(0, 1767268800));
	CHECK(comp("after:01/01/2026") == 0 && pint(0, 1767225600));
	CHECK(comp("after:1/01/2026") == 0 && pint(0, 1767225600));
	CHECK(comp("before:2024-02-29T23:59:59Z") == 0 && pint(0, 1709251199));
	CHECK(comp("after:1970-01-01") == 0 && pint(0, 0));
	CHECK(comp("before:9999-12-31") == 0 && pint(0, 253402214400LL));
}

TEST(query_fulltext_words_phrases)
{
	CHECK(comp("sharepoint") == 0 &&
	      where_is("(services.id IN (SELECT rowid FROM services_fts WHERE services_fts MATCH ?))") &&
	      pstr(0, "\"sharepoint\""));
	CHECK(comp("\"index of\"") == 0 && pstr(0, "\"index of\""));
	CHECK(comp("\"say \\\"hi\\\"\"") == 0 && pstr(0, "\"say \"\"hi\"\"\""));
	CHECK(comp("http.html:\"a b\",c") == 0 && Q.nparams == 2 && pstr(0, "\"a b\"") && pstr(1, "\"c\"") &&
	      has(" OR "));
	CHECK(comp("a b c") == 0 && Q.nterms == 3 && Q.nparams == 3 && pstr(2, "\"c\""));
	/* commas in a bare word are text, not a list */
	CHECK(comp("a,b") == 0 && Q.nparams == 1 && pstr(0, "\"a,b\""));
	/* a colon after a non-name is text */
	CHECK(comp("::1") == 0 && pstr(0, "\"::1\""));
	CHECK(comp("2026-01-01T12:00") == 0 && pstr(0, "\"2026-01-01T12:00\""));
	CHECK(comp("\"http://example.com/\"") == 0 && pstr(0, "\"http://example.com/\""));
	CHECK(comp("Größe") == 0 && pstr(0, "\"Größe\""));
	/* PostgreSQL: raw text, plainto for words, phraseto for phrases */
	CHECK(comp_d("word \"a phrase\"", &query_dialect_postgres) == 0 &&
	      where_is("(services.fts @@ plainto_tsquery('simple', $1)) AND (services.fts @@ phraseto_tsquery('simple', $2))") &&
	      pstr(0, "word") && pstr(1, "a phrase"));
}

TEST(query_quoting)
{
	CHECK(comp("title:\"a,b\"") == 0 && Q.nparams == 1 && pstr(0, "http_title : \"a,b\""));
	CHECK(comp("title:\"a,b\",c") == 0 && Q.nparams == 2 && pstr(0, "http_title : \"a,b\"") && pstr(1, "%c%"));
	CHECK(comp("title:c,\"a b\"") == 0 && Q.nparams == 2 && pstr(0, "%c%") && pstr(1, "http_title : \"a b\""));
	CHECK(comp("title:\"a \\\"quoted\\\" word\"") == 0 && pstr(0, "http_title : \"a \"\"quoted\"\" word\""));
	CHECK(comp("product:\"a\\\\b\"") == 0 && pstr(0, "a\\b"));
	CHECK(comp("product:\"a\\nb\"") == 0 && pstr(0, "a\\nb"));  /* other escapes stay literal */
	CHECK(comp("product:a\\b") == 0 && pstr(0, "a\\b"));
	CHECK(comp("product:\"tab\there\"") == 0 && pstr(0, "tab\there"));
	CHECK(comp("org:\"  spaced  \"") == 0 && pstr(0, "  spaced  "));
}

TEST(query_negation_and_or)
{
	CHECK(comp("-port:80") == 0 && where_is("NOT coalesce((port = ?), FALSE)") && pint(0, 80));
	CHECK(comp("-port:80,443") == 0 && where_is("NOT coalesce((port = ? OR port = ?), FALSE)"));
	CHECK(comp("-product:iis") == 0 && where_is("NOT coalesce((lower(product) = lower(?)), FALSE)"));
	CHECK(comp("-apache") == 0 &&
	      where_is("NOT coalesce((services.id IN (SELECT rowid FROM services_fts WHERE services_fts MATCH ?)), FALSE)"));
	CHECK(comp("-\"index of\"") == 0 && has("NOT coalesce((services.id IN") && pstr(0, "\"index of\""));
	CHECK(comp("port:80,443,8080") == 0 && where_is("(port = ? OR port = ? OR port = ?)") &&
	      pint(0, 80) && pint(1, 443) && pint(2, 8080));
	CHECK(comp("a-b") == 0 && pstr(0, "\"a-b\""));  /* inner dash is text */
}

TEST(query_mixture_both_dialects)
{
	const char *q = "port:80,443 -country:DE apache \"index of\" vuln:CVE-2025-53770";
	CHECK(comp_d(q, &query_dialect_sqlite) == 0 && Q.nterms == 5 && Q.nparams == 6);
	CHECK(where_is("(port = ? OR port = ?) AND NOT coalesce((upper(country) = ?), FALSE)"
		       " AND (services.id IN (SELECT rowid FROM services_fts WHERE services_fts MATCH ?))"
		       " AND (services.id IN (SELECT rowid FROM services_fts WHERE services_fts MATCH ?))"
		       " AND (services.id IN (SELECT v.service_id FROM vulns v WHERE 1=1 AND upper(v.cve) = upper(?)))"));
	CHECK(pint(0, 80) && pint(1, 443) && pstr(2, "DE") && pstr(3, "\"apache\"") && pstr(4, "\"index of\"") &&
	      pstr(5, "CVE-2025-53770"));
	CHECK(placeholders_ok(&query_dialect_sqlite));
	CHECK(comp_d(q, &query_dialect_postgres) == 0 && Q.nparams == 6);
	CHECK(where_is("(port = $1 OR port = $2) AND NOT coalesce((upper(country) = $3), FALSE)"
		       " AND (services.fts @@ plainto_tsquery('simple', $4))"
		       " AND (services.fts @@ phraseto_tsquery('simple', $5))"
		       " AND (services.id IN (SELECT v.service_id FROM vulns v WHERE 1=1 AND upper(v.cve) = upper($6)))"));
	CHECK(pstr(3, "apache") && pstr(4, "index of"));
	CHECK(placeholders_ok(&query_dialect_postgres));
	CHECK(comp_d("scan:x net:198.19.0.0/16 ssl:y title:z after:2026-01-01 ip:1.2.3.4", &query_dialect_postgres) == 0 &&
	      Q.nparams == 9 && placeholders_ok(&query_dialect_postgres) && has("$9") && !has("$10"));
}

static void expect_err(const char *q, const char *msg)
{
	int rc = comp(q);
	bool ok = rc == -1 && strstr(E, msg) != NULL && Q.nparams == 0 && Q.params == NULL;
	if (!ok)
		printf("#   query '%.60s': rc %d err '%s' (want '%s')\n", q ? q : "(null)", rc, E, msg);
	CHECK(ok);
}

TEST(query_malformed)
{
	expect_err("\"abc", "unbalanced quote");
	expect_err("title:\"abc", "unbalanced quote");
	expect_err("port:80 title:\"a\\\"", "unbalanced quote");
	expect_err("abc\"def", "stray quote");
	expect_err("title:ab\"c\"", "stray quote");
	expect_err("\"a\"b", "blank after the closing quote");
	expect_err("title:\"a\"b", "expected ',' or a blank");
	expect_err("port:", "port: empty value");
	expect_err("port: 80", "port: empty value");
	expect_err("port:80,", "port: empty value");
	expect_err("port:,80", "port: empty value");
	expect_err("port:80,,443", "port: empty value");
	expect_err("title:\"\"", "title: empty value");
	expect_err("\"\"", "empty phrase");
	expect_err("\"   \"", "empty phrase");
	expect_err("-", "'-' must be followed");
	expect_err("port:80 - x", "'-' must be followed");
	expect_err("--x", "negated only once");
	expect_err("bad\x01" "byte", "control character");
	expect_err("caf\xc3", "not valid UTF-8");
	expect_err("\xc0\xaf", "not valid UTF-8");
	expect_err("\xed\xa0\x80", "not valid UTF-8");
}

TEST(query_unknown_filter_suggestion)
{
	expect_err("prot:80", "unknown filter 'prot': did you mean 'port'?");
	CHECK(strcmp(E, "unknown filter 'prot': did you mean 'port'?") == 0);
	expect_err("contry:DE", "did you mean 'country'?");
	expect_err("http.titel:x", "did you mean 'http.title'?");
	expect_err("ssl.cert.subjct.cn:x", "did you mean 'ssl.cert.subject.cn'?");
	expect_err("has-tls:true", "did you mean 'has_tls'?");
	expect_err("vulns:CVE-2025-53770", "did you mean 'vuln'?");
	expect_err("hostname:example.com", "filter 'hostname' is not supported");
	CHECK(strstr(E, "ssl.cert.subject.cn") && strstr(E, "net"));
	expect_err("city:Paris", "not supported");
	expect_err("xyzzy:1", "unknown filter 'xyzzy': try port, net");
	expect_err("C:\\windows", "unknown filter 'C'");
	char longname[200];
	memset(longname, 'a', 150);
	strcpy(longname + 150, ":x");
	expect_err(longname, "unknown filter 'aaaa");
	CHECK(strlen(E) < 200);
}

TEST(query_bad_values)
{
	expect_err("port:http", "port: expected a number 1-65535");
	expect_err("port:0", "port: expected a number 1-65535");
	expect_err("port:65536", "port: expected a number 1-65535");
	expect_err("port:-1", "port: expected a number 1-65535");
	expect_err("port:80,http", "port: expected a number 1-65535");
	expect_err("port:99999999999999999999999", "port: expected");
	expect_err("net:1.2.3.0/33", "net: expected an IPv4 network");
	expect_err("net:1.2.3.0/", "net: expected");
	expect_err("net:1.2.3.0/08", "net: expected");
	expect_err("net:1.2.3/24", "net: expected");
	expect_err("ip:1.2.3", "ip: expected an IPv4 address");
	expect_err("ip:01.2.3.4", "ip: expected");
	expect_err("ip:256.1.1.1", "ip: expected");
	expect_err("ip:1.2.3.4/33", "ip: expected an IPv4 network");
	expect_err("after:yesterday", "after: expected a date");
	expect_err("after:2026-02-29", "after: expected a date");
	expect_err("before:2026-13-01", "before: expected a date");
	expect_err("before:2026-01-01T24:00:00Z", "before: expected a date");
	expect_err("before:2026-01-01T12:00:00", "before: expected a date");
	expect_err("before:2026-01-01T12:00:00.Z", "before: expected a date");
	expect_err("before:2026-1-1", "before: expected a date");
	expect_err("before:32/01/2026", "before: expected a date");
	expect_err("before:0000-01-01", "before: expected a date");
	expect_err("has_tls:maybe", "has_tls: expected true or false");
	expect_err("compromised:perhaps", "compromised: expected true or false");
	expect_err("has_vuln:1", "has_vuln: expected true or false");
	expect_err("country:DEU", "country: expected a two-letter");
	expect_err("country:D1", "country: expected a two-letter");
	expect_err("asn:ASX", "asn: expected");
	expect_err("asn:4294967296", "asn: expected");
	expect_err("http.status:99", "http.status: expected");
	expect_err("http.status:1000", "http.status: expected");
	expect_err("http.favicon.hash:2147483648", "http.favicon.hash: expected a signed 32-bit");
	expect_err("http.favicon.hash:-2147483649", "http.favicon.hash: expected");
	expect_err("http.favicon.hash:--1", "http.favicon.hash: expected");
	expect_err("http.favicon.hash:-", "http.favicon.hash: expected");
	expect_err("vuln:CVE-25-1", "vuln: expected a CVE id");
	expect_err("vuln:CVE-2025-123", "vuln: expected a CVE id");
	expect_err("vuln:CVE-2025-12345678", "vuln: expected a CVE id");
	expect_err("vuln:heartbleed", "vuln: expected a CVE id");
	expect_err("ssl.cert.fingerprint:abcd", "ssl.cert.fingerprint: expected a SHA-256");
	expect_err("ssl.cert.fingerprint:zz", "ssl.cert.fingerprint: expected");
}

TEST(query_limits)
{
	struct strbuf sb;
	strbuf_init(&sb);
	for (int i = 0; i < QUERY_MAX_TERMS; i++)
		strbuf_printf(&sb, "port:%d ", i + 1);
	CHECK(comp(sb.data) == 0 && Q.nterms == 64 && Q.nparams == 64);
	strbuf_adds(&sb, "x");
	expect_err(sb.data, "too many terms: at most 64");
	strbuf_reset(&sb);
	strbuf_adds(&sb, "port:1");
	for (int i = 1; i < QUERY_MAX_VALUES; i++)
		strbuf_printf(&sb, ",%d", i + 1);
	CHECK(comp(sb.data) == 0 && Q.nterms == 1 && Q.nparams == 64);
	strbuf_adds(&sb, ",9");
	expect_err(sb.data, "port: too many values (at most 64)");
	strbuf_reset(&sb);
	for (int i = 0; i < 5000; i++)
		strbuf_add(&sb, "a", 1);
	expect_err(sb.data, "query too long");
	sb.data[4096] = '\0';
	CHECK(comp(sb.data) == 0 && Q.nparams == 1);  /* exactly 4096 bytes is fine */
	sb.data[4000] = '"';
	sb.data[4096] = '\0';
	expect_err(sb.data, "stray quote");
	strbuf_free(&sb);
}

TEST(query_hostile_values_stay_in_params)
{
	CHECK(comp("product:\"x' OR 1=1 --\"") == 0 && pstr(0, "x' OR 1=1 --"));
	CHECK(!has("'x") && !has("1=1") && !has("--") && quotes_only_fixed(W()));
	CHECK(comp("title:%_\\") == 0 && quotes_only_fixed(W()) && !has("%"));
	CHECK(comp("Robert');DROP TABLE services;-- \"a'b\" o'reilly") == 0 && Q.nparams == 5);
	CHECK(!has("DROP") && !has(";") && !has("reilly") && quotes_only_fixed(W()));
	CHECK(pstr(0, "\"Robert');DROP\"") && pstr(2, "\"services;--\"") && pstr(3, "\"a'b\"") && pstr(4, "\"o'reilly\""));
	static const char *const hostile[] = {
		"org:\"'; DELETE FROM services; --\"", "title:\"') OR ('1'='1\"", "\"NEAR(a b)\" OR x",
		"scan:\"1 OR 1=1\"", "server:$1", "product:?", "title:\"$2 ?3 :x @y\"", "\"\\\") OR 1=1 --\"",
		"http.html:'", "-'", "version:\"' ESCAPE '\\\\'\"", "\"simple'\"",
	};
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		for (int d = 0; d < 2; d++) {
			const struct query_dialect *dl = d ? &query_dialect_postgres : &query_dialect_sqlite;
			bool ok = comp_d(hostile[i], dl) == 0 && quotes_only_fixed(W()) && placeholders_ok(dl) &&
				  !has(";") && !has("1=1") && !has("DELETE");
			if (!ok)
				printf("#   hostile '%s' (%s): '%s' err '%s'\n", hostile[i], dl->name, W(), E);
			CHECK(ok);
		}
	}
}

/* xorshift garbage: whatever the input, either a clean error or SQL whose
 * placeholders match the params and whose quotes are the fixed ones. */
TEST(query_garbage)
{
	static const char alphabet[] = "ab:\"\\,- -\t'%_;()?$0123456789.port:title:net:/ip:after:-\xc3\xa9";
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	char buf[300];
	int compiled = 0, failed = 0;
	for (int iter = 0; iter < 20000; iter++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		size_t n = (size_t)(x % (sizeof(buf) - 1));
		for (size_t i = 0; i < n; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			buf[i] = iter % 3 ? alphabet[x % (sizeof(alphabet) - 1)] : (char)(1 + x % 255);
		}
		buf[n] = '\0';
		const struct query_dialect *d = iter & 1 ? &query_dialect_postgres : &query_dialect_sqlite;
		if (comp_d(buf, d) == 0) {
			compiled++;
			if (!placeholders_ok(d) || !quotes_only_fixed(W())) {
				printf("#   garbage broke an invariant: '%s' -> '%s'\n", buf, W());
				CHECK(0);
				break;
			}
		} else {
			failed++;
			CHECK(E[0] != '\0' && Q.nparams == 0);
		}
	}
	CHECK(compiled > 100 && failed > 100);
}

TEST(query_suggest_names)
{
	CHECK(query_suggest("prot") && strcmp(query_suggest("prot"), "port") == 0);
	CHECK(query_suggest("PORT") && strcmp(query_suggest("PORT"), "port") == 0);
	CHECK(query_suggest("contry") && strcmp(query_suggest("contry"), "country") == 0);
	CHECK(query_suggest("titel") && strcmp(query_suggest("titel"), "title") == 0);
	CHECK(query_suggest("http.stauts") && strcmp(query_suggest("http.stauts"), "http.status") == 0);
	CHECK(query_suggest("compromized") && strcmp(query_suggest("compromized"), "compromised") == 0);
	CHECK(query_suggest("xyzzy") == NULL);
	CHECK(query_suggest("") == NULL);
	CHECK(query_suggest("c") == NULL);
	CHECK(query_suggest(NULL) == NULL);
	char big[1000];
	memset(big, 'p', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK(query_suggest(big) == NULL);
}

TEST(query_facets)
{
	struct query_facet f[8];
	size_t n = 99;
	char err[QUERY_ERR_LEN];
	CHECK(query_parse_facets("country,port:10,verdict", f, 8, &n, err, sizeof(err)) == 0 && n == 3);
	CHECK(strcmp(f[0].name, "country") == 0 && strcmp(f[0].column, "services.country") == 0 && f[0].limit == 5 && !f[0].via_vulns);
	CHECK(strcmp(f[1].name, "port") == 0 && strcmp(f[1].column, "services.port") == 0 && f[1].limit == 10);
	CHECK(strcmp(f[2].name, "verdict") == 0 && f[2].limit == 5);
	CHECK(query_parse_facets(" vuln:1000 , http.status , ssl.cert.subject.cn:1 ", f, 8, &n, err, sizeof(err)) == 0 && n == 3);
	CHECK(strcmp(f[0].column, "upper(vulns.cve)") == 0 && f[0].via_vulns && f[0].limit == 1000);
	CHECK(strcmp(f[1].column, "services.http_status") == 0 && strcmp(f[2].column, "services.cert_subject_cn") == 0 && f[2].limit == 1);
	CHECK(query_parse_facets("asn,org,product,version,transport,http.title,server", f, 8, &n, err, sizeof(err)) == 0 && n == 7);
	CHECK(strcmp(f[6].column, "services.http_server") == 0);
	CHECK(query_parse_facets("", f, 8, &n, err, sizeof(err)) == 0 && n == 0);
	CHECK(query_parse_facets("COUNTRY", f, 8, &n, err, sizeof(err)) == 0 && n == 1 && strcmp(f[0].name, "country") == 0);
	CHECK(query_parse_facets("cuntry", f, 8, &n, err, sizeof(err)) == -1 && n == 0 &&
	      strcmp(err, "unknown facet 'cuntry': did you mean 'country'?") == 0);
	CHECK(query_parse_facets("port,zzzzzz", f, 8, &n, err, sizeof(err)) == -1 && strstr(err, "facets are port, country"));
	CHECK(query_parse_facets("port:0", f, 8, &n, err, sizeof(err)) == -1 && strstr(err, "1-1000"));
	CHECK(query_parse_facets("port:1001", f, 8, &n, err, sizeof(err)) == -1 && strstr(err, "1-1000"));
	CHECK(query_parse_facets("port:x", f, 8, &n, err, sizeof(err)) == -1 && strstr(err, "1-1000"));
	CHECK(query_parse_facets("port:", f, 8, &n, err, sizeof(err)) == -1 && strstr(err, "1-1000"));
	CHECK(query_parse_facets("port,,country", f, 8, &n, err, sizeof(err)) == -1 && strstr(err, "empty facet"));
	CHECK(query_parse_facets("port,", f, 8, &n, err, sizeof(err)) == -1 && strstr(err, "empty facet"));
	CHECK(query_parse_facets("port,port:3", f, 8, &n, err, sizeof(err)) == -1 && strstr(err, "twice"));
	CHECK(query_parse_facets("port,country,org", f, 2, &n, err, sizeof(err)) == -1 && strstr(err, "at most 2") && n == 0);
	CHECK(query_parse_facets("hostname", f, 8, &n, err, sizeof(err)) == -1 && strstr(err, "unknown facet"));
}

/* ---- the compiled SQL against a real SQLite database ------------------- */

/* The fixture services, as vigil JSON Lines, for the real SQLite store:
 * scan 1 gets services 1-3, scan 2 4-8, scan 3 9-10. */
static const char *const fixture_scans[] = {"scan-20260101-000000", "weekly", "nightly"};
static const int fixture_scan_of[] = {0, 0, 0, 1, 1, 1, 1, 1, 2, 2};
static const char *const fixture[] = {
	"{\"ip\":\"198.19.0.1\",\"port\":443,\"transport\":\"tcp\",\"timestamp\":\"2026-01-01T00:00:00Z\","
	"\"tls\":{\"cert\":{\"subject_cn\":\"sp.example.org\",\"sans\":[\"sp.example.org\",\"www.example.org\"],"
	"\"sha256\":\"abababababababababababababababababababababababababababababababab\"}},"
	"\"http\":{\"status\":200,\"title\":\"SharePoint - Home\",\"server\":\"Microsoft-IIS/10.0\","
	"\"headers\":[[\"Server\",\"Microsoft-IIS/10.0\"],[\"X-SharePointHealthScore\",\"0\"]],\"favicon_hash\":116323821},"
	"\"country\":\"DE\",\"asn\":64496,\"org\":\"Example GmbH\",\"product\":\"SharePoint\",\"edition\":\"Subscription\","
	"\"version\":\"16.0.18526.20424\",\"toolshell\":{\"verdict\":\"vulnerable\",\"compromised\":false,\"evidence\":[]},"
	"\"vulns\":[\"CVE-2025-53770\",\"CVE-2025-49704\"]}",
	"{\"ip\":\"198.19.0.2\",\"port\":80,\"transport\":\"tcp\",\"timestamp\":\"2026-01-01T01:00:00Z\","
	"\"http\":{\"status\":200,\"title\":\"Index of /\",\"server\":\"Apache/2.4.62\","
	"\"headers\":[[\"Server\",\"Apache/2.4.62\"]],\"favicon_hash\":-1234567},"
	"\"country\":\"FR\",\"asn\":64497,\"org\":\"Exemple SA\",\"product\":\"Apache httpd\",\"version\":\"2.4.62\"}",
	"{\"ip\":\"198.19.0.3\",\"port\":22,\"transport\":\"tcp\",\"timestamp\":\"2026-01-01T02:00:00Z\","
	"\"banner\":\"SSH-2.0-OpenSSH_9.2p1 Debian\",\"country\":\"DE\",\"asn\":64496,\"org\":\"Example GmbH\","
	"\"product\":\"OpenSSH\",\"version\":\"9.2p1\"}",
	"{\"ip\":\"198.19.1.4\",\"port\":443,\"transport\":\"tcp\",\"timestamp\":\"2026-01-02T00:00:00Z\","
	"\"tls\":{\"cert\":{\"subject_cn\":\"intranet.example.net\"}},"
	"\"http\":{\"status\":200,\"title\":\"SharePoint 2019 - 100% patched_site\",\"server\":\"Microsoft-IIS/10.0\","
	"\"headers\":[[\"Server\",\"Microsoft-IIS/10.0\"]]},"
	"\"country\":\"NL\",\"asn\":64498,\"org\":\"Voorbeeld BV\",\"product\":\"SharePoint\",\"edition\":\"2019\","
	"\"version\":\"16.0.10417.20037\",\"toolshell\":{\"verdict\":\"patched\",\"compromised\":false,\"evidence\":[]}}",
	"{\"ip\":\"198.19.1.5\",\"port\":443,\"transport\":\"tcp\",\"timestamp\":\"2026-01-02T00:00:00Z\","
	"\"tls\":{\"cert\":{\"subject_cn\":\"portal\"}},\"http\":{\"status\":200,\"title\":\"SharePoint\"},"
	"\"country\":\"DE\",\"asn\":64496,\"org\":\"x' OR 1=1 --\",\"product\":\"SharePoint\",\"edition\":\"2016\","
	"\"toolshell\":{\"verdict\":\"compromised\",\"compromised\":true,\"evidence\":[]},\"vulns\":[\"cve-2025-53770\"]}",
	"{\"ip\":\"198.19.2.6\",\"port\":8080,\"transport\":\"tcp\",\"timestamp\":\"2026-01-02T00:00:00Z\","
	"\"http\":{\"status\":403,\"title\":\"Jenkins [Dashboard]\",\"server\":\"Jetty(10.0)\","
	"\"headers\":[[\"X-Jenkins\",\"2.440\"]]},\"country\":\"US\",\"asn\":64499}",
	"{\"ip\":\"203.0.113.7\",\"port\":21,\"transport\":\"tcp\",\"timestamp\":\"2026-01-02T00:00:00Z\","
	"\"banner\":\"220 (vsFTPd 3.0.5)\",\"country\":\"GB\",\"product\":\"vsftpd\",\"version\":\"3.0.5\"}",
	"{\"ip\":\"198.19.0.8\",\"port\":80,\"transport\":\"tcp\",\"timestamp\":\"2026-01-02T00:00:00Z\","
	"\"http\":{\"status\":200,\"title\":\"say \\\"hi\\\"\",\"server\":\"nginx\",\"headers\":[[\"Server\",\"nginx\"]]},"
	"\"country\":\"DE\",\"asn\":64496,\"product\":\"nginx\"}",
	"{\"ip\":\"198.19.0.9\",\"port\":443,\"transport\":\"tcp\",\"timestamp\":\"2026-01-03T00:00:00Z\","
	"\"tls\":{\"cert\":{\"subject_cn\":\"login.example.com\","
	"\"sha256\":\"cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd\"}},"
	"\"http\":{\"status\":200,\"title\":\"Login\",\"server\":\"nginx\",\"headers\":[[\"Server\",\"nginx\"]]},"
	"\"country\":\"NL\",\"asn\":64498,\"product\":\"nginx\"}",
	"{\"ip\":\"198.19.0.10\",\"port\":3389,\"transport\":\"tcp\",\"timestamp\":\"2026-01-03T00:00:00Z\"}",
};

static int collect_id(void *arg, const struct store_row *row)
{
	struct strbuf *ids = arg;
	strbuf_printf(ids, "%s%lld", ids->len ? "," : "", (long long)row->service_id);
	return 0;
}

static int collect_facet(void *arg, const char *facet, const struct store_facet_row *row)
{
	strbuf_printf(arg, "%s=%s:%lld ", facet, row->value, (long long)row->count);
	return 0;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return (x > y) - (x < y);
}

/* Run query q on the store; the matching ids ascending as "1,4,5", or
 * "error: ...", and check that count agrees with search. */
static void run(struct store *st, const char *q, char *out, size_t outlen)
{
	char err[STORE_ERR_LEN];
	struct strbuf ids;
	strbuf_init(&ids);
	int64_t n = -1;
	if (st->be->search(st, q, 1000, 0, collect_id, &ids, err, sizeof(err)) < 0 ||
	    st->be->count(st, q, &n, err, sizeof(err)) < 0) {
		snprintf(out, outlen, "%s: %.200s", strncmp(err, "query", 5) == 0 ? "step error" : "compile error", err);
		strbuf_free(&ids);
		return;
	}
	long long v[64];
	size_t k = 0;
	for (char *p = ids.data; p && *p && k < 64; k++) {
		v[k] = strtoll(p, &p, 10);
		if (*p == ',')
			p++;
	}
	qsort(v, k, sizeof(v[0]), cmp_ll);
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < k && o + 8 < outlen; i++)
		o += (size_t)snprintf(out + o, outlen - o, "%s%lld", i ? "," : "", v[i]);
	if ((int64_t)k != n)
		snprintf(out, outlen, "step error: count %lld, search %zu", (long long)n, k);
	strbuf_free(&ids);
}

TEST(query_sqlite_real_database)
{
	/* the real backend: id lists from indexes, tags, the server dictionary,
	 * the plain WHERE for queries without a positive indexed term */
	char path[] = "/tmp/vigil-query-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	close(fd);
	unlink(path);
	char err[STORE_ERR_LEN];
	struct store *db = store_open(path, err, sizeof(err));
	CHECK(db != NULL);
	if (!db)
		return;
	for (size_t i = 0; i < sizeof(fixture) / sizeof(fixture[0]); i++) {
		static int64_t scan_ids[3];
		int sc = fixture_scan_of[i];
		if (i == 0 || fixture_scan_of[i - 1] != sc) {
			if (i > 0)
				CHECK(db->be->scan_end(db, scan_ids[sc - 1], true, err, sizeof(err)) == 0);
			struct store_scan_info info = {.name = fixture_scans[sc], .source = "scan"};
			CHECK(db->be->scan_begin(db, &info, &scan_ids[sc], err, sizeof(err)) == 0);
		}
		struct service_record rec;
		char perr[160];
		int rc = import_vigil_line(fixture[i], strlen(fixture[i]), &rec, perr, sizeof(perr));
		if (rc < 0)
			printf("#   fixture %zu: %s\n", i + 1, perr);
		CHECK(rc == 0);
		if (rc == 0) {
			CHECK(db->be->add(db, scan_ids[sc], &rec, err, sizeof(err)) == 0);
			record_free(&rec);
		}
		if (i + 1 == sizeof(fixture) / sizeof(fixture[0]))
			CHECK(db->be->scan_end(db, scan_ids[sc], true, err, sizeof(err)) == 0);
	}
	static const struct {
		const char *q, *ids;
	} cases[] = {
		{"", "1,2,3,4,5,6,7,8,9,10"},
		{"port:443", "1,4,5,9"},
		{"port:80,443 country:de", "1,5,8"},
		{"country:DE -port:22", "1,5,8"},
		{"sharepoint", "1,4,5"},
		{"SharePoint -product:sharepoint", ""},
		{"-product:sharepoint", "2,3,6,7,8,9,10"},
		{"-sharepoint", "2,3,6,7,8,9,10"},
		{"\"index of\"", "2"},
		{"\"of index\"", ""},
		{"openssh debian", "3"},
		{"http.html:jenkins", "6"},
		{"http.html:\"x-jenkins\",vsftpd", "6,7"},
		{"product:\"x' OR 1=1 --\"", ""},
		{"org:\"x' OR 1=1 --\"", "5"},
		{"\"x' OR 1=1 --\"", ""},
		{"title:%", "4"},
		{"title:_", "4"},
		{"title:\"100% patched_\"", "4"},
		{"title:\"say \\\"hi\\\"\"", "8"},
		{"\"say \\\"hi\\\"\"", "8"},
		{"title:sharepoint,jenkins", "1,4,5,6"},
		{"server:iis http.status:200", "1,4"},
		{"http.status:403,404", "6"},
		{"-http.status:200", "3,6,7,10"},
		{"vuln:cve-2025-53770", "1,5"},
		{"vuln:CVE-2025-49704,CVE-2014-0160", "1"},
		{"-vuln:CVE-2025-53770", "2,3,4,6,7,8,9,10"},
		{"has_vuln:true", "1,5"},
		{"has_vuln:false port:443", "4,9"},
		{"compromised:true", "5"},
		{"compromised:false", "1,4"},
		{"-compromised:true", "1,2,3,4,6,7,8,9,10"},
		{"-compromised:false -compromised:true", "2,3,6,7,8,9,10"},
		{"has_tls:true", "1,4,5,9"},
		{"-has_tls:true", "2,3,6,7,8,10"},
		{"net:198.19.0.0/24", "1,2,3,8,9,10"},
		{"net:198.19.0.0/16 -net:198.19.0.0/24", "4,5,6"},
		{"ip:198.19.0.8", "8"},
		{"ip:203.0.113.7,198.19.0.1", "1,7"},
		{"asn:AS64496", "1,3,5,8"},
		{"-asn:64496", "2,4,6,7,9,10"},
		{"scan:nightly", "9,10"},
		{"scan:2", "4,5,6,7,8"},
		{"scan:\"2 OR 1=1\"", ""},
		{"after:2026-01-02", "9,10"},
		{"after:2026-01-01T12:00:00Z", "4,5,6,7,8,9,10"},
		{"before:2026-01-01T01:00:00Z", "1"},
		{"after:31/12/2025 before:2026-01-01T02:00:00+01:00", "1"},
		{"transport:tcp", "1,2,3,4,5,6,7,8,9,10"},
		{"edition:2019", "4"},
		{"verdict:VULNERABLE", "1"},
		{"-verdict:patched", "1,2,3,5,6,7,8,9,10"},
		{"version:16.0.18526.20424", "1"},
		{"org:\"example gmbh\"", "1,3"},
		{"ssl:example.org", "1"},
		{"ssl:www.example", "1"},
		{"ssl.cert.subject.cn:EXAMPLE", "1,4,9"},
		{"ssl.cert.fingerprint:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB:AB", "1"},
		{"http.favicon.hash:-1234567", "2"},
		{"http.favicon.hash:116323821,-1234567 -country:FR", "1"},
		{"nginx -title:login", "8"},
		{"Robert');DROP TABLE services;--", ""},
		{"port:443 sharepoint -compromised:true vuln:CVE-2025-53770", "1"},
	};
	char got[256];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run(db, cases[i].q, got, sizeof(got));
		if (strcmp(got, cases[i].ids) != 0)
			printf("#   query '%s': got '%s', want '%s'\n", cases[i].q, got, cases[i].ids);
		CHECK(strcmp(got, cases[i].ids) == 0);
	}
	/* whatever compiles also runs (no FTS5 or LIKE errors) */
	static const char alphabet[] = "ab \"\\,-'%_;()*^:.0123456789 port: title: http.html: ssl: scan: NEAR AND OR NOT";
	uint64_t x = 0x2545f4914f6cdd1dULL;
	int ran = 0;
	for (int iter = 0; iter < 3000; iter++) {
		char q[120];
		size_t n = 1 + (size_t)(iter % (sizeof(q) - 2));
		for (size_t i = 0; i < n; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			q[i] = alphabet[x % (sizeof(alphabet) - 1)];
		}
		q[n] = '\0';
		run(db, q, got, sizeof(got));
		if (strncmp(got, "compile error", 13) == 0)
			continue;
		ran++;
		if (strstr(got, "error")) {
			printf("#   query '%s': %s\n", q, got);
			CHECK(0);
			break;
		}
	}
	CHECK(ran > 300);
	/* the table survived every query */
	run(db, "", got, sizeof(got));
	CHECK(strcmp(got, "1,2,3,4,5,6,7,8,9,10") == 0);
	/* facets: over an id set, over every row (the per-scan counts) and
	 * over the same rows through the id set: the same answer */
	struct strbuf fo;
	strbuf_init(&fo);
	CHECK(db->be->facets(db, "port:80,443", "country:1,vuln", collect_facet, &fo, err, sizeof(err)) == 0);
	CHECK(fo.data && strcmp(fo.data, "country=DE:3 vuln=CVE-2025-53770:2 vuln=CVE-2025-49704:1 ") == 0);
	const char *fl = "country,vuln,port:3,product,verdict,asn:2,org,http.status,transport,version:2";
	strbuf_reset(&fo);
	CHECK(db->be->facets(db, "", fl, collect_facet, &fo, err, sizeof(err)) == 0);
	struct strbuf fo2;
	strbuf_init(&fo2);
	CHECK(db->be->facets(db, "net:198.0.0.0/7,203.0.0.0/8", fl, collect_facet, &fo2, err, sizeof(err)) == 0);
	if (!fo.data || !fo2.data || strcmp(fo.data, fo2.data) != 0)
		printf("#   facets '': %s\n#   facets set: %s\n", fo.data, fo2.data);
	CHECK(fo.data && fo2.data && strcmp(fo.data, fo2.data) == 0);
	CHECK(strstr(fo.data, "country=DE:4 country=NL:2 ") && strstr(fo.data, "port=443:4 port=80:2 "));
	strbuf_free(&fo);
	strbuf_free(&fo2);
	store_close(db);
	char side[64];
	unlink(path);
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
}

TEST(store_sqlite_migrates_schema_1)
{
	/* a database written by the schema-1 vigil: opening it migrates to
	 * the current schema and every query still finds the old rows */
	char path[] = "/tmp/vigil-migrate-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	close(fd);
	unlink(path);
	sqlite3 *raw = NULL;
	CHECK(sqlite3_open(path, &raw) == SQLITE_OK);
	char *emsg = NULL;
	int rc = sqlite3_exec(raw, sq_migration_sql(0), NULL, NULL, &emsg);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(raw,
			"INSERT INTO meta VALUES('schema_version','1');"
			"INSERT INTO scans(id, name, started, finished, source) VALUES(1, 'old', 1767225600, 1767225700, 'scan');"
			"INSERT INTO services(id, scan_id, ip, port, transport, ts, http_status, http_title, http_server, headers,"
			" has_tls, banner, product, verdict, compromised, country, asn, org, http_favicon_hash) VALUES"
			" (1, 1, 3323133953, 443, 'tcp', 1767225600, 200, 'SharePoint - Home', 'Microsoft-IIS/10.0',"
			"  'Server: Microsoft-IIS/10.0', 1, NULL, 'SharePoint', 'vulnerable', 0, 'DE', 64496, 'Example', 116323821),"
			" (2, 1, 3323133954, 80, 'tcp', 1767225601, 200, 'Welcome to nginx!', 'nginx', 'Server: nginx', 0, NULL,"
			"  'nginx', NULL, NULL, 'FR', 64497, NULL, NULL),"
			" (3, 1, 3323133955, 22, 'tcp', 1767225602, NULL, NULL, NULL, NULL, 0, 'SSH-2.0-OpenSSH_9.2p1 Debian',"
			"  'OpenSSH', NULL, NULL, 'DE', 64496, 'Example', NULL);"
			"INSERT INTO records VALUES (1, '{\"ip\":\"198.19.0.1\"}'), (2, '{\"ip\":\"198.19.0.2\"}'),"
			" (3, '{\"ip\":\"198.19.0.3\"}');"
			"INSERT INTO vulns VALUES (1, 'CVE-2025-53770');"
			"INSERT INTO services_fts(services_fts) VALUES ('rebuild');"
			"INSERT INTO services_tri(services_tri) VALUES ('rebuild');",
			NULL, NULL, &emsg);
	if (rc != SQLITE_OK)
		printf("#   schema 1: %s\n", emsg ? emsg : "?");
	CHECK(rc == SQLITE_OK);
	sqlite3_free(emsg);
	sqlite3_close(raw);
	char err[STORE_ERR_LEN];
	struct store *db = store_open(path, err, sizeof(err));
	if (!db)
		printf("#   open: %s\n", err);
	CHECK(db != NULL);
	if (!db)
		return;
	static const struct {
		const char *q, *ids;
	} cases[] = {
		{"", "1,2,3"},
		{"server:iis", "1"},
		{"server:NGINX", "2"},
		{"title:\"to nginx\"", "2"},
		{"port:443 country:de", "1"},
		{"product:sharepoint verdict:vulnerable", "1"},
		{"vuln:CVE-2025-53770", "1"},
		{"http.favicon.hash:116323821", "1"},
		{"has_tls:true", "1"},
		{"compromised:false", "1"},
		{"asn:64496 -port:443", "3"},
		{"openssh", "3"},
		{"\"microsoft-iis\"", "1"},
		{"ip:198.19.0.2", "2"},
	};
	char got[256];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run(db, cases[i].q, got, sizeof(got));
		if (strcmp(got, cases[i].ids) != 0)
			printf("#   query '%s': got '%s', want '%s'\n", cases[i].q, got, cases[i].ids);
		CHECK(strcmp(got, cases[i].ids) == 0);
	}
	struct strbuf fo;
	strbuf_init(&fo);
	CHECK(db->be->facets(db, "", "country,vuln", collect_facet, &fo, err, sizeof(err)) == 0);
	CHECK(fo.data && strcmp(fo.data, "country=DE:2 country=FR:1 vuln=CVE-2025-53770:1 ") == 0);
	strbuf_free(&fo);
	store_close(db);
	char side[64];
	unlink(path);
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
}
