/* toolshell.c - the SharePoint fingerprint and the ToolShell check.
 *
 * Detects SharePoint from any of its signals (headers, GENERATOR meta, the
 * _vti paths), resolves the build from the best anonymous source
 * (buildversion.cnf > start.aspx siteClientTag > service.cnf > header >
 * _vti_inf.html), and judges it against data/toolshell.tsv. With
 * --assume-breach it also looks for the campaign's web shells: a random
 * path first (a catch-all answers 200 to anything and proves nothing), then
 * the known shell names. A shell's response carries the victim's machine
 * keys: it is examined in memory and never stored, only the verdict is.
 * Every request is a GET; no exploit and no ToolPane POST is ever sent. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "detect/builds.h"
#include "detect/detect.h"
#include "probe/html.h"

/* Web-shell paths of the July 2025 campaign (toolshell.md section 5.2). */
static const char *const ts_shell_paths[] = {
	"/_layouts/15/spinstall0.aspx", "/_layouts/16/spinstall0.aspx", "/_layouts/15/spinstall.aspx",
	"/_layouts/15/spinstall1.aspx", "/_layouts/15/spinstall2.aspx", "/_layouts/15/ghostfile.aspx",
};
#define TS_NSHELLS (int)(sizeof(ts_shell_paths) / sizeof(ts_shell_paths[0]))

enum ts_source { SRC_NONE, SRC_VTI_INF, SRC_HEADER, SRC_SERVICE_CNF, SRC_START_ASPX, SRC_BUILDVERSION };
static const char *const ts_source_names[] = {"", "_vti_inf.html", "header", "service.cnf", "start.aspx", "buildversion.cnf"};

enum ts_step {
	STEP_BUILDVERSION, STEP_SERVICE_CNF, STEP_VTI_INF, STEP_START_ASPX, STEP_BASELINE, STEP_SHELLS, STEP_END
};

struct ts_state {
	struct detect_options opt;
	bool sharepoint;
	struct strlist signals;
	struct sp_build build;
	enum ts_source source;
	enum ts_step step;
	int shell_idx;
	char baseline_path[64];
	bool breach_checked, catch_all, compromised;
	char shell_hit[64];
	int shells_tried;
};

static void ts_init(void *state, const struct detect_options *opt)
{
	struct ts_state *st = state;
	memset(st, 0, sizeof(*st));
	st->opt = *opt;
}

static void ts_signal(struct ts_state *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void ts_signal(struct ts_state *st, const char *fmt, ...)
{
	st->sharepoint = true;
	if (st->signals.n >= 12)
		return;
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	for (size_t i = 0; i < st->signals.n; i++)
		if (strcmp(st->signals.v[i], buf) == 0)
			return;
	strlist_add(&st->signals, buf);
}

static void ts_offer_build(struct ts_state *st, const struct sp_build *b, enum ts_source src)
{
	if (src > st->source) {
		st->build = *b;
		st->source = src;
	}
}

/* Copy the version-looking prefix of s ("16.0.0.10417...") into buf. */
static void version_prefix(const char *s, size_t n, char *buf, size_t size)
{
	size_t i = 0;
	while (i < n && i + 1 < size && (isdigit((unsigned char)s[i]) || s[i] == '.')) {
		buf[i] = s[i];
		i++;
	}
	buf[i] = '\0';
}

static void ts_scan_headers(struct ts_state *st, const struct http_response *r)
{
	const char *v = http_response_header(r, "MicrosoftSharePointTeamServices");
	if (v) {
		char ver[32];
		struct sp_build b;
		version_prefix(v, strlen(v), ver, sizeof(ver));
		ts_signal(st, "header MicrosoftSharePointTeamServices: %s", ver[0] ? ver : "(no version)");
		if (builds_parse(ver, false, &b) == 0)
			ts_offer_build(st, &b, SRC_HEADER);
	}
	static const char *const marker_headers[] = {"SPRequestGuid", "X-SharePointHealthScore", "X-MS-InvokeApp"};
	for (size_t i = 0; i < sizeof(marker_headers) / sizeof(marker_headers[0]); i++)
		if (http_response_header(r, marker_headers[i]))
			ts_signal(st, "header %s", marker_headers[i]);
}

static void ts_on_root(void *state, const struct http_response *r)
{
	struct ts_state *st = state;
	if (!r)
		return;
	ts_scan_headers(st, r);
	char gen[128];
	if (r->body && html_meta_generator(r->body, r->body_len, gen, sizeof(gen)) &&
	    strncasecmp(gen, "Microsoft SharePoint", 20) == 0)
		ts_signal(st, "GENERATOR meta: %s", "Microsoft SharePoint");
}

/* Find "key" in body and return the version text after it. */
static bool body_value_after(const struct http_response *r, const char *key, char *buf, size_t size)
{
	if (!r->body || r->body_len == 0)
		return false;
	size_t klen = strlen(key);
	const uint8_t *p = r->body, *end = r->body + r->body_len;
	while ((size_t)(end - p) >= klen) {
		const uint8_t *hit = memchr(p, key[0], (size_t)(end - p) - klen + 1);
		if (!hit)
			return false;
		if (memcmp(hit, key, klen) == 0) {
			version_prefix((const char *)hit + klen, (size_t)(end - hit) - klen, buf, size);
			return buf[0] != '\0';
		}
		p = hit + 1;
	}
	return false;
}

/* siteClientTag:"<n>$$<build>" (quotes around the key optional). */
static bool site_client_tag(const struct http_response *r, char *buf, size_t size)
{
	if (!r->body)
		return false;
	const char *key = "siteClientTag";
	size_t klen = strlen(key);
	const uint8_t *p = r->body, *end = r->body + r->body_len;
	while ((size_t)(end - p) > klen) {
		const uint8_t *hit = memchr(p, 's', (size_t)(end - p) - klen);
		if (!hit)
			return false;
		p = hit + 1;
		if (memcmp(hit, key, klen) != 0)
			continue;
		const uint8_t *q = hit + klen;
		while (q < end && (*q == '"' || *q == ' ' || *q == ':' || *q == '\t'))
			q++;
		while (q < end && isdigit(*q))
			q++;
		if (q >= end || *q != '$')
			continue;
		while (q < end && *q == '$')
			q++;
		version_prefix((const char *)q, (size_t)(end - q), buf, size);
		return buf[0] != '\0';
	}
	return false;
}

/* Does a body look like leaked ASP.NET machine keys, e.g.
 * "<hex>|HMACSHA256|<hex>|Auto|Framework20SP1"? */
static bool looks_like_machine_keys(const uint8_t *b, size_t n)
{
	static const char *const algos[] = {"HMACSHA256", "HMACSHA384", "HMACSHA512", "SHA1", "MD5",
					    "3DES", "AES", "TripleDES", "Auto"};
	while (n > 0 && isspace(b[n - 1]))
		n--;
	while (n > 0 && isspace(*b)) {
		b++;
		n--;
	}
	if (n < 40 || n > 4096)
		return false;
	size_t start = 0, field = 0;
	bool ok0 = false, ok1 = false, ok2 = false;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && b[i] != '|')
			continue;
		size_t len = i - start;
		const uint8_t *f = b + start;
		bool hex = len > 0;
		for (size_t k = 0; k < len && hex; k++)
			hex = isxdigit(f[k]);
		if (field == 0)
			ok0 = hex && len >= 32;
		else if (field == 1)
			for (size_t a = 0; a < sizeof(algos) / sizeof(algos[0]); a++)
				ok1 |= strlen(algos[a]) == len && memcmp(algos[a], f, len) == 0;
		else if (field == 2)
			ok2 = hex && len >= 16;
		field++;
		start = i + 1;
	}
	return field >= 3 && ok0 && ok1 && ok2;
}

static bool ts_next(void *state, struct detect_request *req)
{
	struct ts_state *st = state;
	memset(req, 0, sizeof(*req));
	for (;;) {
		switch (st->step) {
		case STEP_BUILDVERSION:
			snprintf(req->path, sizeof(req->path), "/_vti_pvt/buildversion.cnf");
			return true;
		case STEP_SERVICE_CNF:
			if (st->source >= SRC_START_ASPX) {
				st->step = STEP_BASELINE;
				continue;
			}
			snprintf(req->path, sizeof(req->path), "/_vti_pvt/service.cnf");
			return true;
		case STEP_VTI_INF:
			if (st->source >= SRC_HEADER) {
				st->step = STEP_START_ASPX;
				continue;
			}
			snprintf(req->path, sizeof(req->path), "/_vti_inf.html");
			return true;
		case STEP_START_ASPX:
			if (!st->sharepoint || st->source >= SRC_START_ASPX) {
				st->step = STEP_BASELINE;
				continue;
			}
			snprintf(req->path, sizeof(req->path), "/_layouts/15/start.aspx");
			return true;
		case STEP_BASELINE:
			if (!st->opt.assume_breach || !st->sharepoint) {
				st->step = STEP_END;
				continue;
			}
			if (!st->baseline_path[0]) {
				unsigned char rnd[8] = {0};
				if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
					memcpy(rnd, "vigil-rn", 8);
				snprintf(st->baseline_path, sizeof(st->baseline_path),
					 "/_layouts/15/vigil-%02x%02x%02x%02x%02x%02x%02x%02x.aspx", rnd[0], rnd[1], rnd[2],
					 rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
			}
			snprintf(req->path, sizeof(req->path), "%s", st->baseline_path);
			/* a catch-all may echo anything: treat like a shell path */
			req->sensitive = true;
			return true;
		case STEP_SHELLS:
			if (st->catch_all || st->compromised || st->shell_idx >= TS_NSHELLS) {
				st->step = STEP_END;
				continue;
			}
			snprintf(req->path, sizeof(req->path), "%s", ts_shell_paths[st->shell_idx]);
			req->sensitive = true;
			return true;
		default:
			return false;
		}
	}
}

static void ts_on_response(void *state, const struct detect_request *req, const struct http_response *r)
{
	struct ts_state *st = state;
	char ver[48];
	struct sp_build b;
	if (r && !req->sensitive)
		ts_scan_headers(st, r);
	switch (st->step) {
	case STEP_BUILDVERSION:
		if (r && r->status == 200 && body_value_after(r, "vti_buildversion:SR|", ver, sizeof(ver)) &&
		    builds_parse(ver, true, &b) == 0) {
			ts_signal(st, "/_vti_pvt/buildversion.cnf: %s", ver);
			ts_offer_build(st, &b, SRC_BUILDVERSION);
		}
		st->step = STEP_SERVICE_CNF;
		break;
	case STEP_SERVICE_CNF:
		if (r && r->status == 200 && body_value_after(r, "vti_extenderversion:SR|", ver, sizeof(ver)) &&
		    builds_parse(ver, false, &b) == 0) {
			ts_signal(st, "/_vti_pvt/service.cnf: %s", ver);
			ts_offer_build(st, &b, SRC_SERVICE_CNF);
		}
		st->step = STEP_VTI_INF;
		break;
	case STEP_VTI_INF:
		if (r && r->status == 200 && body_value_after(r, "FPVersion=\"", ver, sizeof(ver))) {
			int major = atoi(ver);
			if (major >= 12) {
				ts_signal(st, "/_vti_inf.html FPVersion %s", ver);
				b = (struct sp_build){.major = major, .build = 0, .rev = -1};
				ts_offer_build(st, &b, SRC_VTI_INF);
			}
		}
		st->step = STEP_START_ASPX;
		break;
	case STEP_START_ASPX:
		if (r && r->status == 200 && site_client_tag(r, ver, sizeof(ver)) && builds_parse(ver, true, &b) == 0) {
			ts_signal(st, "/_layouts/15/start.aspx siteClientTag: %s", ver);
			ts_offer_build(st, &b, SRC_START_ASPX);
		}
		st->step = STEP_BASELINE;
		break;
	case STEP_BASELINE:
		st->breach_checked = true;
		if (r && r->status == 200)
			st->catch_all = true;
		st->step = STEP_SHELLS;
		break;
	case STEP_SHELLS:
		st->shells_tried++;
		if (r && r->status == 200 && r->body && !r->body_truncated &&
		    looks_like_machine_keys(r->body, r->body_len)) {
			st->compromised = true;
			snprintf(st->shell_hit, sizeof(st->shell_hit), "%s", ts_shell_paths[st->shell_idx]);
		}
		st->shell_idx++;
		break;
	default:
		break;
	}
}

static void ts_finish(void *state, struct service_record *rec)
{
	struct ts_state *st = state;
	rec->has_toolshell = true;
	if (!st->sharepoint) {
		record_set(&rec->verdict, "not-sharepoint");
		strlist_add(&rec->evidence, "no SharePoint signal in the headers, / or the _vti paths");
		return;
	}
	record_set(&rec->product, "sharepoint");
	for (size_t i = 0; i < st->signals.n; i++)
		strlist_add(&rec->evidence, st->signals.v[i]);
	if (st->source == SRC_NONE) {
		record_set(&rec->verdict, "patch-unknown");
		strlist_add(&rec->evidence, "SharePoint detected but no build is visible anonymously");
	} else {
		char ver[48];
		builds_format(&st->build, ver, sizeof(ver));
		if (st->source == SRC_VTI_INF)
			snprintf(ver, sizeof(ver), "%d", st->build.major);
		record_set(&rec->version, ver);
		record_set(&rec->version_source, ts_source_names[st->source]);
		struct builds_verdict v;
		builds_judge(&st->build, &v);
		record_set(&rec->verdict, v.verdict);
		if (v.edition)
			record_set(&rec->edition, v.edition);
		strlist_add(&rec->evidence, v.reason);
		for (size_t i = 0; i < v.vulns.n; i++)
			strlist_add(&rec->vulns, v.vulns.v[i]);
		strlist_free(&v.vulns);
	}
	if (!st->opt.assume_breach)
		return;
	if (st->compromised) {
		rec->compromised = TRI_TRUE;
		strlist_addf(&rec->evidence, "web shell at %s: its response looks like leaked ASP.NET machine keys "
			     "(content not kept; rotate the machine keys)", st->shell_hit);
	} else if (st->catch_all) {
		rec->compromised = TRI_FALSE;
		strlist_add(&rec->evidence, "catch-all server: a random path answers 200, so web-shell paths prove nothing");
	} else if (st->breach_checked) {
		rec->compromised = TRI_FALSE;
		strlist_addf(&rec->evidence, "no web shell at %d known paths (absence is not proof: other names exist)",
			     st->shells_tried);
	}
}

static void ts_cleanup(void *state)
{
	struct ts_state *st = state;
	strlist_free(&st->signals);
}

const struct detect_module detect_toolshell = {
	.name = "toolshell",
	.state_size = sizeof(struct ts_state),
	.init = ts_init,
	.on_root = ts_on_root,
	.next = ts_next,
	.on_response = ts_on_response,
	.finish = ts_finish,
	.cleanup = ts_cleanup,
};

static const struct detect_module *const detect_modules[] = {&detect_toolshell};

const struct detect_module *detect_find(const char *name)
{
	for (size_t i = 0; i < sizeof(detect_modules) / sizeof(detect_modules[0]); i++)
		if (strcmp(detect_modules[i]->name, name) == 0)
			return detect_modules[i];
	return NULL;
}
