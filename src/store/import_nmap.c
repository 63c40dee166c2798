/* import_nmap.c - reads Nmap XML (-oX), and masscan's -oX which mimics it,
 * with libxml2's streaming xmlTextReader: one record per open TCP port,
 * emitted when its </port> is read, so memory does not grow with the
 * file. Maps service product/version, the http-title, http-headers,
 * http-server-header, ssl-cert and banner scripts, and host start times.
 * Hostile XML: no network, no external DTD or entity loading, no entity
 * substitution, and a DOCTYPE declaring anything (entities, an external
 * subset) stops the import. A well-formedness error stops it too (XML
 * cannot be resynchronised): what was read before it is kept. */
#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>
#include <libxml/xmlreader.h>

#include "lib/alloc.h"
#include "lib/strbuf.h"
#include "store/import_int.h"

#define NM_MAX_TEXT (256u << 10)  /* script output / elem text kept */
#define NM_MAX_DEPTH 8            /* script table nesting followed */

enum nm_addr { ADDR_NONE, ADDR_V4, ADDR_V6, ADDR_BAD };

struct nm_state {
	struct import_ctx *c;
	xmlTextReaderPtr r;
	char xml_err[IMPORT_ERR_LEN];
	int xml_err_line;
	time_t run_start;
	bool masscan;                  /* <nmaprun scanner="masscan">: merge banner entries */
	struct import_window *win;
	/* host */
	time_t host_ts;
	enum nm_addr addr;
	uint32_t ip;
	/* port */
	bool in_port;
	uint64_t port_line;
	const char *port_err;          /* why this port cannot be imported */
	bool open, tcp;
	struct service_record rec;
	char *svc_name;
	char *svc_banner;              /* masscan -oX: <service banner="..."> */
	/* script */
	bool in_script;
	char script_id[64];
	char *script_output;
	int depth;                     /* table nesting inside the script */
	char keys[NM_MAX_DEPTH][64];
	bool in_elem;
	char elem_key[64];
	struct strbuf elem_text;
};

static char *attr(struct nm_state *st, const char *name)
{
	return (char *)xmlTextReaderGetAttribute(st->r, (const xmlChar *)name);
}

static bool attr_is(struct nm_state *st, const char *name, const char *want)
{
	char *v = attr(st, name);
	bool eq = v && strcmp(v, want) == 0;
	xmlFree(v);
	return eq;
}

static bool attr_time(struct nm_state *st, const char *name, time_t *out)
{
	char *v = attr(st, name);
	bool ok = v && import_parse_unix(v, strlen(v), out) == 0 && *out > 0;
	xmlFree(v);
	return ok;
}

static void copy_attr(struct nm_state *st, const char *name, char **dst, size_t cap)
{
	char *v = attr(st, name);
	if (v)
		import_set_str(dst, v, strlen(v), cap);
	xmlFree(v);
}

/* "2024-01-01T00:00:00" (Nmap ssl-cert dates, no zone: UTC) into buf[24]. */
static void cert_time(const char *s, size_t n, char *buf)
{
	time_t t;
	if (import_parse_time(s, n, &t) == 0)
		import_fmt_time(t, buf);
}

static void set_sha256_hex(struct record_tls *t, const char *s, size_t n)
{
	char hex[65];
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == ' ' || s[i] == ':')
			continue;
		if (!isxdigit((unsigned char)s[i]) || k == 64)
			return;
		hex[k++] = (char)tolower((unsigned char)s[i]);
	}
	if (k != 64)
		return;
	hex[64] = '\0';
	memcpy(t->sha256, hex, 65);
}

/* The certificate's SHA-256 from the PEM that ssl-cert includes. */
static void pem_sha256(struct record_tls *t, const char *pem, size_t n)
{
	if (n > NM_MAX_TEXT)
		return;
	BIO *bio = BIO_new_mem_buf(pem, (int)n);
	if (!bio)
		return;
	X509 *cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	if (cert) {
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned int mdlen = 0;
		if (X509_digest(cert, EVP_sha256(), md, &mdlen) == 1 && mdlen == 32)
			for (unsigned i = 0; i < 32; i++)
				snprintf(t->sha256 + 2 * i, 3, "%02x", md[i]);
		X509_free(cert);
	}
	BIO_free(bio);
}

/* "commonName=www.example.com/organizationName=..." -> the CN value. */
static void dn_cn(const char *s, size_t n, char **dst)
{
	const char *p = memmem(s, n, "commonName=", 11);
	if (!p)
		return;
	p += 11;
	const char *e = p;
	while (e < s + n && *e != '/')
		e++;
	if (!*dst)
		import_set_str(dst, p, (size_t)(e - p), 256);
}

/* ssl-cert's text output: names, SANs, dates and SHA-256 where the
 * structured elems did not give them. */
static void ssl_cert_output(struct service_record *rec, const char *out)
{
	struct record_tls *t = &rec->tls;
	const char *p = out;
	while (*p) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		while (n > 0 && *p == ' ') {
			p++;
			n--;
		}
		if (n > 9 && memcmp(p, "Subject: ", 9) == 0) {
			dn_cn(p + 9, n - 9, &t->subject_cn);
		} else if (n > 8 && memcmp(p, "Issuer: ", 8) == 0) {
			dn_cn(p + 8, n - 8, &t->issuer_cn);
		} else if (n > 26 && memcmp(p, "Subject Alternative Name: ", 26) == 0 && t->sans.n == 0) {
			const char *q = p + 26, *end = p + n;
			while (q < end && t->sans.n < 100) {
				const char *comma = memchr(q, ',', (size_t)(end - q));
				const char *ce = comma ? comma : end;
				while (q < ce && *q == ' ')
					q++;
				if (ce - q > 4 && memcmp(q, "DNS:", 4) == 0) {
					char *name = NULL;
					import_set_str(&name, q + 4, (size_t)(ce - q - 4), 256);
					strlist_add(&t->sans, name);
					free(name);
				}
				q = comma ? comma + 1 : end;
			}
		} else if (n > 17 && memcmp(p, "Not valid before:", 17) == 0 && !t->not_before[0]) {
			const char *v = p + 17;
			while (*v == ' ')
				v++;
			cert_time(v, n - (size_t)(v - p), t->not_before);
		} else if (n > 16 && memcmp(p, "Not valid after:", 16) == 0 && !t->not_after[0]) {
			const char *v = p + 16;
			while (*v == ' ')
				v++;
			cert_time(v, n - (size_t)(v - p), t->not_after);
		} else if (n > 8 && memcmp(p, "SHA-256:", 8) == 0 && !t->sha256[0]) {
			set_sha256_hex(t, p + 8, n - 8);
		}
		p = e ? e + 1 : p + n;
	}
}

/* http-headers output: "\n  Server: nginx\n  Date: ...\n  \n  (Request type: HEAD)\n". */
static void http_headers_output(struct service_record *rec, const char *out)
{
	const char *p = out;
	while (*p) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		const char *l = p;
		while (n > 0 && *l == ' ') {
			l++;
			n--;
		}
		if (n > 0 && l[0] == '(')
			break;  /* "(Request type: HEAD)" */
		const char *colon = n ? memchr(l, ':', n) : NULL;
		if (colon && colon > l) {
			bool token = true;
			for (const char *k = l; k < colon; k++)
				if ((unsigned char)*k <= ' ' || (unsigned char)*k >= 0x7f)
					token = false;
			if (token)
				import_http_header(rec, l, (size_t)(colon - l), colon + 1, n - (size_t)(colon - l) - 1);
		}
		p = e ? e + 1 : p + n + (size_t)(l - p);
	}
}

/* A script elem: path is the table keys and the elem key, "a.b.c". */
static void script_elem(struct nm_state *st, const char *path, const char *v, size_t n)
{
	struct service_record *rec = &st->rec;
	const char *id = st->script_id;
	if (strcmp(id, "http-title") == 0) {
		if (strcmp(path, "title") == 0) {
			rec->has_http = rec->probed = true;
			import_set_str(&rec->http.title, v, n, 1024);
		} else if (strcmp(path, "redirect_url") == 0 && !rec->http.location) {
			rec->has_http = rec->probed = true;
			import_set_str(&rec->http.location, v, n, 2048);
		}
	} else if (strcmp(id, "ssl-cert") == 0) {
		struct record_tls *t = &rec->tls;
		rec->has_tls = t->have_cert = rec->probed = true;
		if (strcmp(path, "subject.commonName") == 0 && !t->subject_cn)
			import_set_str(&t->subject_cn, v, n, 256);
		else if (strcmp(path, "issuer.commonName") == 0 && !t->issuer_cn)
			import_set_str(&t->issuer_cn, v, n, 256);
		else if (strcmp(path, "validity.notBefore") == 0)
			cert_time(v, n, t->not_before);
		else if (strcmp(path, "validity.notAfter") == 0)
			cert_time(v, n, t->not_after);
		else if (strcmp(path, "sha256") == 0)
			set_sha256_hex(t, v, n);
		else if (strcmp(path, "pem") == 0 && !t->sha256[0])
			pem_sha256(t, v, n);
	} else if (strcmp(id, "http-server-header") == 0 && !rec->http.server && n > 0) {
		rec->has_http = rec->probed = true;
		import_set_str(&rec->http.server, v, n, 1024);
	}
}

static void script_end(struct nm_state *st)
{
	struct service_record *rec = &st->rec;
	const char *id = st->script_id;
	const char *out = st->script_output ? st->script_output : "";
	size_t n = strlen(out);
	if (strcmp(id, "http-title") == 0 && !rec->http.title && n > 0 &&
	    strncmp(out, "Site doesn't have a title", 25) != 0 && strncmp(out, "Did not follow redirect", 23) != 0 &&
	    strncmp(out, "Requested resource was", 22) != 0) {
		rec->has_http = rec->probed = true;
		import_set_str(&rec->http.title, out, n, 1024);
	} else if (strcmp(id, "http-headers") == 0) {
		http_headers_output(rec, out);
	} else if (strcmp(id, "http-server-header") == 0 && !rec->http.server && n > 0) {
		rec->has_http = rec->probed = true;
		import_set_str(&rec->http.server, out, n, 1024);
	} else if (strcmp(id, "ssl-cert") == 0) {
		rec->has_tls = rec->tls.have_cert = rec->probed = true;
		ssl_cert_output(rec, out);
	} else if (strcmp(id, "banner") == 0 && !rec->banner && n > 0) {
		char *b = xstrdup(out);
		size_t bl = import_unescape_x(b, n);
		import_set_banner(rec, b, bl);
		free(b);
	}
	free(st->script_output);
	st->script_output = NULL;
	st->in_script = false;
}

static void elem_end(struct nm_state *st)
{
	char path[NM_MAX_DEPTH * 64 + 64];
	size_t o = 0;
	path[0] = '\0';
	for (int i = 0; i < st->depth && i < NM_MAX_DEPTH; i++)
		o += (size_t)snprintf(path + o, sizeof(path) - o, "%s.", st->keys[i][0] ? st->keys[i] : "*");
	snprintf(path + o, sizeof(path) - o, "%s", st->elem_key[0] ? st->elem_key : "*");
	script_elem(st, path, st->elem_text.data ? st->elem_text.data : "", st->elem_text.len);
	st->in_elem = false;
}

static void port_end(struct nm_state *st)
{
	struct import_ctx *c = st->c;
	struct service_record *rec = &st->rec;
	st->in_port = false;
	const char *why = st->port_err;
	if (!why && !st->tcp)
		why = "only TCP ports are imported";
	if (!why && !st->open) {
		c->rep->skipped++;
		goto done;
	}
	if (!why && st->addr == ADDR_V6)
		why = "IPv6 not supported yet";
	if (!why && st->addr != ADDR_V4)
		why = "the host has no valid IPv4 address";
	if (why) {
		import_bad(c, st->port_line, "%s", why);
		goto done;
	}
	rec->ip = st->ip;
	if (rec->product || rec->version)
		record_set(&rec->version_source, "nmap");
	if (st->masscan) {
		bool created;
		struct service_record *w = import_window_get(c, st->win, rec->ip, rec->port, rec->timestamp, &created);
		if (w && st->svc_banner) {
			const char *app = st->svc_name ? st->svc_name : "";
			char *b = xstrdup(st->svc_banner);
			size_t bl = import_unescape_x(b, strlen(b));
			import_masscan_banner(w, app, strlen(app), b, bl);
			free(b);
		}
		goto done;
	}
	import_emit(c, rec);
done:
	record_free(rec);
	free(st->svc_name);
	free(st->svc_banner);
	st->svc_name = st->svc_banner = NULL;
}

/* The line of the reader's current node (the parser may be further on). */
static uint64_t node_line(xmlTextReaderPtr r)
{
	xmlNodePtr n = xmlTextReaderCurrentNode(r);
	long l = n ? xmlGetLineNo(n) : -1;
	return l > 0 ? (uint64_t)l : (uint64_t)xmlTextReaderGetParserLineNumber(r);
}

static void element_start(struct nm_state *st, const char *name, bool empty)
{
	if (st->in_script) {
		if (strcmp(name, "table") == 0) {
			if (!empty) {
				if (st->depth < NM_MAX_DEPTH) {
					char *k = attr(st, "key");
					snprintf(st->keys[st->depth], sizeof(st->keys[0]), "%s", k ? k : "");
					xmlFree(k);
				}
				st->depth++;
			}
		} else if (strcmp(name, "elem") == 0) {
			char *k = attr(st, "key");
			snprintf(st->elem_key, sizeof(st->elem_key), "%s", k ? k : "");
			xmlFree(k);
			strbuf_reset(&st->elem_text);
			st->in_elem = true;
			if (empty)
				elem_end(st);
		}
		return;
	}
	if (st->in_port) {
		if (strcmp(name, "state") == 0) {
			st->open = attr_is(st, "state", "open");
		} else if (strcmp(name, "service") == 0) {
			copy_attr(st, "product", &st->rec.product, 256);
			copy_attr(st, "version", &st->rec.version, 256);
			copy_attr(st, "name", &st->svc_name, 64);
			copy_attr(st, "banner", &st->svc_banner, IMPORT_MAX_BANNER);
			if (attr_is(st, "tunnel", "ssl"))
				st->rec.has_tls = true;
		} else if (strcmp(name, "script") == 0) {
			char *id = attr(st, "id");
			snprintf(st->script_id, sizeof(st->script_id), "%s", id ? id : "");
			xmlFree(id);
			copy_attr(st, "output", &st->script_output, NM_MAX_TEXT);
			st->in_script = true;
			st->depth = 0;
			if (empty)
				script_end(st);
		}
		return;
	}
	if (strcmp(name, "port") == 0) {
		st->in_port = true;
		st->port_line = node_line(st->r);
		st->port_err = NULL;
		st->open = false;
		st->tcp = attr_is(st, "protocol", "tcp");
		record_init(&st->rec, 0, 0, st->host_ts);
		char *pid = attr(st, "portid");
		uint32_t p;
		if (!pid || import_parse_uint(pid, strlen(pid), 65535, &p) < 0 || p == 0)
			st->port_err = "portid is not a port number";
		else
			st->rec.port = (uint16_t)p;
		xmlFree(pid);
		if (empty)
			port_end(st);
	} else if (strcmp(name, "address") == 0) {
		char *type = attr(st, "addrtype");
		char *a = attr(st, "addr");
		if (type && a && strcmp(type, "ipv4") == 0 && st->addr != ADDR_V4) {
			int ok = import_parse_ip(a, strlen(a), &st->ip);
			st->addr = ok == 0 ? ADDR_V4 : ok == -2 ? ADDR_V6 : ADDR_BAD;
		} else if (type && strcmp(type, "ipv6") == 0 && st->addr == ADDR_NONE) {
			st->addr = ADDR_V6;
		}
		xmlFree(type);
		xmlFree(a);
	} else if (strcmp(name, "host") == 0) {
		st->addr = ADDR_NONE;
		if (!attr_time(st, "starttime", &st->host_ts) && !attr_time(st, "endtime", &st->host_ts))
			st->host_ts = st->run_start;
	} else if (strcmp(name, "nmaprun") == 0) {
		if (!attr_time(st, "start", &st->run_start))
			st->run_start = st->c->default_time;
		st->host_ts = st->run_start;
		st->masscan = attr_is(st, "scanner", "masscan");
	}
}

static void element_end(struct nm_state *st, const char *name)
{
	if (st->in_script) {
		if (strcmp(name, "elem") == 0 && st->in_elem)
			elem_end(st);
		else if (strcmp(name, "table") == 0 && st->depth > 0)
			st->depth--;
		else if (strcmp(name, "script") == 0)
			script_end(st);
		return;
	}
	if (st->in_port && strcmp(name, "port") == 0)
		port_end(st);
	else if (strcmp(name, "host") == 0)
		st->addr = ADDR_NONE;
}

static void nm_error(void *arg, xmlErrorPtr e)
{
	struct nm_state *st = arg;
	if (!e || e->level < XML_ERR_ERROR || st->xml_err[0])
		return;
	snprintf(st->xml_err, sizeof(st->xml_err), "XML: %s", e->message ? e->message : "error");
	size_t n = strlen(st->xml_err);
	while (n > 0 && (st->xml_err[n - 1] == '\n' || st->xml_err[n - 1] == ' '))
		st->xml_err[--n] = '\0';
	st->xml_err_line = e->line;
}

/* Unstructured libxml2 messages: dropped (the structured ones are kept). */
static void nm_generic_error(void *ctx, const char *msg, ...)
{
	(void)ctx;
	(void)msg;
}

static int nm_read(void *ctx, char *buf, int len)
{
	struct import_src *src = ctx;
	ssize_t n = import_src_read(src, buf, len > 0 ? (size_t)len : 0);
	return n < 0 ? -1 : (int)n;
}

static int nm_close(void *ctx)
{
	(void)ctx;
	return 0;
}

#define PROLOG_MAX (64u << 10)

static bool starts(const uint8_t *h, size_t n, const char *s)
{
	size_t k = strlen(s);
	return n >= k && memcmp(h, s, k) == 0;
}

/* Check the prolog before libxml2 parses it: only a bare <!DOCTYPE name>
 * is accepted. An internal subset could declare entities, and libxml2
 * expands entities in attribute values when they are read, so documents
 * declaring anything are refused before any of it is parsed. Returns NULL,
 * or why the file is refused with *line set. */
static const char *prolog_check(const uint8_t *h, size_t n, uint64_t *line)
{
	size_t i = 0;
	if (n > PROLOG_MAX)
		n = PROLOG_MAX;
	if (starts(h, n, "\xef\xbb\xbf"))
		i = 3;
	const char *why = NULL;
	for (;;) {
		while (i < n && (h[i] == ' ' || h[i] == '\t' || h[i] == '\r' || h[i] == '\n'))
			i++;
		if (i >= n) {
			if (n >= PROLOG_MAX)
				why = "XML prolog longer than 64 KiB refused";
			break;
		}
		const char *end = NULL;
		if (starts(h + i, n - i, "<?"))
			end = "?>";
		else if (starts(h + i, n - i, "<!--"))
			end = "-->";
		if (end) {
			const uint8_t *e = memmem(h + i + 2, n - i - 2, end, strlen(end));
			if (!e) {
				if (n >= PROLOG_MAX)
					why = "XML prolog longer than 64 KiB refused";
				break;  /* else unterminated: libxml2 reports it */
			}
			i = (size_t)(e - h) + strlen(end);
			continue;
		}
		if (starts(h + i, n - i, "<!DOCTYPE")) {
			size_t j = i + 9;
			while (j < n && (h[j] == ' ' || h[j] == '\t' || h[j] == '\r' || h[j] == '\n'))
				j++;
			while (j < n && h[j] != ' ' && h[j] != '\t' && h[j] != '\r' && h[j] != '\n' && h[j] != '>' &&
			       h[j] != '[')
				j++;
			while (j < n && (h[j] == ' ' || h[j] == '\t' || h[j] == '\r' || h[j] == '\n'))
				j++;
			if (j < n && h[j] == '>') {
				i = j + 1;
				continue;
			}
			why = "DOCTYPE with declarations or an external subset refused (not Nmap output)";
		}
		break;  /* the root element, or not XML at all (libxml2 reports it) */
	}
	*line = 1;
	for (size_t k = 0; k < i && k < n; k++)
		if (h[k] == '\n')
			(*line)++;
	return why;
}

/* Only a bare <!DOCTYPE name> is accepted (checked again on the node). */
static bool dtd_ok(xmlTextReaderPtr r)
{
	xmlNodePtr n = xmlTextReaderCurrentNode(r);
	if (!n || n->type != XML_DTD_NODE)
		return true;
	const xmlDtd *d = (const xmlDtd *)n;
	return !d->entities && !d->pentities && !d->ExternalID && !d->SystemID && !d->elements && !d->attributes &&
	       !d->notations;
}

int import_read_nmap(struct import_ctx *c)
{
	const uint8_t *head;
	size_t hlen;
	uint64_t pline;
	import_src_peek(c->src, PROLOG_MAX, &head, &hlen);
	const char *why = prolog_check(head, hlen, &pline);
	if (why) {
		import_bad(c, pline, "%s", why);
		return 0;
	}
	xmlInitParser();
	struct nm_state st = {.c = c, .run_start = c->default_time, .host_ts = c->default_time};
	strbuf_init(&st.elem_text);
	st.win = import_window_new();
	/* some libxml2 errors (encoding, I/O, also while the reader is set up
	 * and freed) go to the thread's global handlers, which print to
	 * stderr: route them to the report for the duration */
	xmlStructuredErrorFunc old_serr = xmlStructuredError;
	void *old_sctx = xmlStructuredErrorContext;
	xmlGenericErrorFunc old_gerr = xmlGenericError;
	void *old_gctx = xmlGenericErrorContext;
	xmlSetStructuredErrorFunc(&st, nm_error);
	xmlSetGenericErrorFunc(NULL, nm_generic_error);
	/* no XML_PARSE_NOENT (no entity substitution), no DTDLOAD/DTDATTR/
	 * DTDVALID (nothing external is read), NONET; no XML_PARSE_HUGE, so
	 * libxml2's own size and depth limits apply */
	st.r = xmlReaderForIO(nm_read, nm_close, c->src, NULL, NULL,
			      XML_PARSE_NONET | XML_PARSE_NOWARNING | XML_PARSE_NOERROR | XML_PARSE_NOCDATA);
	if (!st.r) {
		xmlSetStructuredErrorFunc(old_sctx, old_serr);
		xmlSetGenericErrorFunc(old_gctx, old_gerr);
		import_bad(c, 1, "%s", st.xml_err[0] ? st.xml_err : "XML: cannot start the parser");
		import_window_free(st.win);
		strbuf_free(&st.elem_text);
		return 0;
	}
	xmlTextReaderSetStructuredErrorHandler(st.r, nm_error, &st);
	int ret = 0;
	while (!c->stopped && (ret = xmlTextReaderRead(st.r)) == 1) {
		int type = xmlTextReaderNodeType(st.r);
		if (type == XML_READER_TYPE_DOCUMENT_TYPE && !dtd_ok(st.r)) {
			import_bad(c, (uint64_t)xmlTextReaderGetParserLineNumber(st.r),
				   "DOCTYPE with declarations or an external subset refused (not Nmap output)");
			break;
		}
		if (type == XML_READER_TYPE_ENTITY_REFERENCE) {
			import_bad(c, (uint64_t)xmlTextReaderGetParserLineNumber(st.r), "entity references refused");
			break;
		}
		const char *name = (const char *)xmlTextReaderConstLocalName(st.r);
		if (type == XML_READER_TYPE_ELEMENT && name) {
			element_start(&st, name, xmlTextReaderIsEmptyElement(st.r) == 1);
		} else if (type == XML_READER_TYPE_END_ELEMENT && name) {
			element_end(&st, name);
		} else if ((type == XML_READER_TYPE_TEXT || type == XML_READER_TYPE_CDATA ||
			    type == XML_READER_TYPE_SIGNIFICANT_WHITESPACE) &&
			   st.in_elem) {
			const char *v = (const char *)xmlTextReaderConstValue(st.r);
			if (v && st.elem_text.len < NM_MAX_TEXT)
				strbuf_add(&st.elem_text, v, strnlen(v, NM_MAX_TEXT - st.elem_text.len));
		}
	}
	if (!c->stopped && ret < 0) {
		uint64_t line = st.xml_err_line > 0 ? (uint64_t)st.xml_err_line
						    : (uint64_t)xmlTextReaderGetParserLineNumber(st.r);
		import_bad(c, line, "%s", st.xml_err[0] ? st.xml_err : "XML: parse error");
	}
	xmlFreeTextReader(st.r);  /* may still report (encoder errors) */
	xmlSetStructuredErrorFunc(old_sctx, old_serr);
	xmlSetGenericErrorFunc(old_gctx, old_gerr);
	if (st.in_port)
		record_free(&st.rec);
	free(st.script_output);
	free(st.svc_name);
	free(st.svc_banner);
	int rc = import_window_flush(c, st.win);
	import_window_free(st.win);
	strbuf_free(&st.elem_text);
	return c->stopped || rc < 0 ? -1 : 0;
}
