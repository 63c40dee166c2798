/* test_detect.c - SharePoint build comparison against the ToolShell table,
 * and the toolshell check module driven with synthetic responses. */
#include <stdlib.h>
#include <string.h>

#include "detect/builds.h"
#include "detect/detect.h"
#include "lib/record.h"
#include "test.h"

static const char *judge(const char *ver, bool full)
{
	static char verdict[32];
	struct sp_build b;
	if (builds_parse(ver, full, &b) < 0)
		return "parse-error";
	struct builds_verdict v;
	builds_judge(&b, &v);
	snprintf(verdict, sizeof(verdict), "%s", v.verdict);
	strlist_free(&v.vulns);
	return verdict;
}

TEST(builds_full_versions)
{
	/* Subscription Edition: July 8 16.0.18526.20424, July 21 16.0.18526.20508 */
	CHECK(strcmp(judge("16.0.18526.20286", true), "vulnerable") == 0);
	CHECK(strcmp(judge("16.0.18526.20423", true), "vulnerable") == 0);
	CHECK(strcmp(judge("16.0.18526.20424", true), "july8-only") == 0);
	CHECK(strcmp(judge("16.0.18526.20507", true), "july8-only") == 0);
	CHECK(strcmp(judge("16.0.18526.20508", true), "patched") == 0);
	CHECK(strcmp(judge("16.0.19127.20100", true), "patched") == 0);
	CHECK(strcmp(judge("16.0.17928.20000", true), "vulnerable") == 0);
	/* 2019: 16.0.10417.20027 / 16.0.10417.20037 */
	CHECK(strcmp(judge("16.0.10417.20019", true), "vulnerable") == 0);
	CHECK(strcmp(judge("16.0.10417.20027", true), "july8-only") == 0);
	CHECK(strcmp(judge("16.0.10417.20037", true), "patched") == 0);
	CHECK(strcmp(judge("16.0.10416.20000", true), "vulnerable") == 0);
	/* 2016: 16.0.5508.1000 / 16.0.5513.1001 */
	CHECK(strcmp(judge("16.0.5500.1001", true), "vulnerable") == 0);
	CHECK(strcmp(judge("16.0.5508.1000", true), "july8-only") == 0);
	CHECK(strcmp(judge("16.0.5513.1000", true), "july8-only") == 0);
	CHECK(strcmp(judge("16.0.5513.1001", true), "patched") == 0);
	CHECK(strcmp(judge("16.0.5513.1002", true), "patched") == 0);
	/* end of life and unknown lines */
	CHECK(strcmp(judge("15.0.5545.1000", true), "eol") == 0);
	CHECK(strcmp(judge("14.0.7268.5000", true), "eol") == 0);
	CHECK(strcmp(judge("16.0.8000.1000", true), "patch-unknown") == 0);
}

TEST(builds_partial_versions_never_guess)
{
	CHECK(strcmp(judge("16.0.0.10417", false), "patch-unknown") == 0);  /* 20027 or 20037? */
	CHECK(strcmp(judge("16.0.0.18526", false), "patch-unknown") == 0);
	CHECK(strcmp(judge("16.0.0.10416", false), "vulnerable") == 0);
	CHECK(strcmp(judge("16.0.0.18000", false), "vulnerable") == 0);
	CHECK(strcmp(judge("16.0.0.19127", false), "patched") == 0);
	CHECK(strcmp(judge("16.0.0.5507", false), "vulnerable") == 0);
	CHECK(strcmp(judge("16.0.0.5508", false), "patch-unknown") == 0);  /* 5508.1000 or earlier? */
	CHECK(strcmp(judge("16.0.0.5512", false), "july8-only") == 0);
	CHECK(strcmp(judge("16.0.0.5513", false), "patch-unknown") == 0);  /* 5513.1001 is the fix */
	CHECK(strcmp(judge("16.0.0.5514", false), "patched") == 0);
	CHECK(strcmp(judge("15.0.0.4569", false), "eol") == 0);
	CHECK(strcmp(judge("14.0.0.6114", false), "eol") == 0);
}

TEST(builds_vulns_per_verdict)
{
	struct sp_build b;
	struct builds_verdict v;
	builds_parse("16.0.18526.20286", true, &b);
	builds_judge(&b, &v);
	/* SE is not affected by CVE-2025-49704 */
	CHECK(v.vulns.n == 3);
	bool has49704 = false;
	for (size_t i = 0; i < v.vulns.n; i++)
		has49704 |= strcmp(v.vulns.v[i], "CVE-2025-49704") == 0;
	CHECK(!has49704);
	CHECK(strcmp(v.edition, "se") == 0);
	strlist_free(&v.vulns);
	builds_parse("16.0.10417.20027", true, &b);
	builds_judge(&b, &v);
	CHECK(v.vulns.n == 2 && strcmp(v.vulns.v[0], "CVE-2025-53770") == 0);
	strlist_free(&v.vulns);
	builds_parse("16.0.10417.20037", true, &b);
	builds_judge(&b, &v);
	CHECK(v.vulns.n == 0);
	strlist_free(&v.vulns);
}

TEST(builds_parse_rejects_junk)
{
	struct sp_build b;
	CHECK(builds_parse("16.0.10417.20037", true, &b) == 0 && b.build == 10417 && b.rev == 20037);
	CHECK(builds_parse("16.0.0.10417", false, &b) == 0 && b.build == 10417 && b.rev == -1);
	CHECK(builds_parse("16.0.10417", true, &b) < 0);
	CHECK(builds_parse("16.0.10417.20037.1", true, &b) < 0);
	CHECK(builds_parse("", true, &b) < 0);
	CHECK(builds_parse("a.b.c.d", true, &b) < 0);
	CHECK(builds_parse("16.0.99999999999.1", true, &b) < 0);
	CHECK(builds_parse("16..1.2", true, &b) < 0);
}

/* Drive the toolshell module through one service with canned answers. */
struct canned {
	const char *path;
	int status;
	const char *body;
};

static struct http_response make_resp(int status, const char *body, const char *hname, const char *hval)
{
	struct http_response r;
	memset(&r, 0, sizeof(r));
	r.status = status;
	r.version_minor = 1;
	r.content_length = -1;
	if (body) {
		r.body = (uint8_t *)strdup(body);
		r.body_len = strlen(body);
	}
	if (hname) {
		r.headers = calloc(1, sizeof(*r.headers));
		r.headers[0].name = strdup(hname);
		r.headers[0].value = strdup(hval);
		r.nheaders = 1;
	}
	return r;
}

static void run_module(const struct canned *answers, size_t n, const char *root_hname, const char *root_hval,
		       const char *root_body, bool breach, struct service_record *rec, int *requests)
{
	const struct detect_module *m = detect_find("toolshell");
	void *st = calloc(1, m->state_size);
	struct detect_options opt = {.assume_breach = breach};
	m->init(st, &opt);
	struct http_response root = make_resp(200, root_body, root_hname, root_hval);
	m->on_root(st, &root);
	struct detect_request req;
	*requests = 0;
	while (*requests < 32 && m->next(st, &req)) {
		(*requests)++;
		const struct canned *c = NULL;
		for (size_t i = 0; i < n; i++)
			if (strcmp(answers[i].path, req.path) == 0 || (answers[i].path[0] == '*'))
				c = &answers[i];
		struct http_response r = make_resp(c ? c->status : 404, c ? c->body : "not found", NULL, NULL);
		m->on_response(st, &req, &r);
		free(r.body);
	}
	record_init(rec, 1, 80, 0);
	m->finish(st, rec);
	m->cleanup(st);
	free(st);
	free(root.body);
	if (root.headers) {
		free(root.headers[0].name);
		free(root.headers[0].value);
	}
	free(root.headers);
}

TEST(toolshell_module_resolves_best_source)
{
	static const struct canned answers[] = {
		{"/_vti_pvt/buildversion.cnf", 200, "vti_encoding:SR|utf8-nl\r\nvti_buildversion:SR|16.0.10417.20037\r\n"},
	};
	struct service_record rec;
	int n;
	run_module(answers, 1, "MicrosoftSharePointTeamServices", "16.0.0.10417", "<html></html>", false, &rec, &n);
	CHECK(strcmp(rec.verdict, "patched") == 0);
	CHECK(strcmp(rec.version, "16.0.10417.20037") == 0);
	CHECK(strcmp(rec.version_source, "buildversion.cnf") == 0);
	CHECK(rec.compromised == TRI_NULL);
	CHECK(n == 1);  /* a full build: nothing more to ask */
	record_free(&rec);
}

TEST(toolshell_module_start_aspx_and_not_sharepoint)
{
	static const struct canned answers[] = {
		{"/_layouts/15/start.aspx", 200, "var _spPageContextInfo={siteClientTag:\"0$$16.0.10417.20019\",x:1};"},
	};
	struct service_record rec;
	int n;
	run_module(answers, 1, "SPRequestGuid", "abc", "<html></html>", false, &rec, &n);
	CHECK(strcmp(rec.verdict, "vulnerable") == 0);
	CHECK(strcmp(rec.version_source, "start.aspx") == 0);
	record_free(&rec);
	run_module(NULL, 0, "Server", "nginx", "<html><title>x</title></html>", true, &rec, &n);
	CHECK(strcmp(rec.verdict, "not-sharepoint") == 0);
	CHECK(rec.product == NULL && rec.compromised == TRI_NULL);
	record_free(&rec);
}

TEST(toolshell_module_breach_and_catch_all)
{
	static const char keys[] =
		"0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF|HMACSHA256|"
		"FEDCBA9876543210FEDCBA9876543210FEDCBA9876543210FEDCBA9876543210|Auto|Framework20SP1";
	static const struct canned shell[] = {
		{"/_vti_pvt/buildversion.cnf", 200, "vti_buildversion:SR|16.0.10417.20027\n"},
		{"/_layouts/15/spinstall0.aspx", 200, keys},
	};
	struct service_record rec;
	int n;
	run_module(shell, 2, "MicrosoftSharePointTeamServices", "16.0.0.10417", "", true, &rec, &n);
	CHECK(rec.compromised == TRI_TRUE);
	CHECK(strcmp(rec.verdict, "july8-only") == 0);
	/* the keys never reach the record */
	struct strbuf sb;
	strbuf_init(&sb);
	record_to_json(&rec, &sb);
	CHECK(strstr(sb.data, "0123456789ABCDEF") == NULL && strstr(sb.data, "FEDCBA98") == NULL);
	strbuf_free(&sb);
	record_free(&rec);
	/* a catch-all answering keys everywhere is not compromised */
	static const struct canned catch_all[] = {{"*", 200, keys}};
	run_module(catch_all, 1, "MicrosoftSharePointTeamServices", "16.0.0.10417", "", true, &rec, &n);
	CHECK(rec.compromised == TRI_FALSE);
	record_free(&rec);
	/* without --assume-breach no shell path is asked for */
	run_module(shell, 2, "MicrosoftSharePointTeamServices", "16.0.0.10417", "", false, &rec, &n);
	CHECK(rec.compromised == TRI_NULL && n == 1);
	record_free(&rec);
}
