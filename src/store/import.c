/* import.c - the import entry points: format names, auto-detection, the
 * input source (a file descriptor read in chunks, or a memory buffer) with
 * capped lines, the bad-line report, and dispatch to the per-format
 * readers in import_*.c. */
#include "store/import.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/alloc.h"
#include "store/import_int.h"

#define SRC_CHUNK (64u << 10)
#define DETECT_HEAD (64u << 10)

static const char *const format_names[] = {
	[IMPORT_AUTO] = "auto",
	[IMPORT_VIGIL] = "vigil",
	[IMPORT_MASSCAN_JSON] = "masscan-json",
	[IMPORT_MASSCAN_LIST] = "masscan-list",
	[IMPORT_ZMAP_CSV] = "zmap-csv",
	[IMPORT_NMAP_XML] = "nmap-xml",
	[IMPORT_SHODAN] = "shodan",
};

int import_format_parse(const char *name, enum import_format *out)
{
	for (size_t i = 0; i < sizeof(format_names) / sizeof(format_names[0]); i++) {
		if (strcmp(name, format_names[i]) == 0) {
			*out = (enum import_format)i;
			return 0;
		}
	}
	return -1;
}

const char *import_format_name(enum import_format f)
{
	if ((size_t)f < sizeof(format_names) / sizeof(format_names[0]))
		return format_names[f];
	return "unknown";
}

/* ---- detection ---- */

static bool has(const char *s, size_t n, const char *needle)
{
	return memmem(s, n, needle, strlen(needle)) != NULL;
}

static bool csv_has_field(const char *s, size_t n, const char *field)
{
	size_t flen = strlen(field);
	size_t i = 0;
	while (i <= n) {
		size_t j = i;
		while (j < n && s[j] != ',')
			j++;
		size_t a = i, b = j;
		while (a < b && (s[a] == ' ' || s[a] == '"'))
			a++;
		while (b > a && (s[b - 1] == ' ' || s[b - 1] == '"' || s[b - 1] == '\r'))
			b--;
		if (b - a == flen && memcmp(s + a, field, flen) == 0)
			return true;
		i = j + 1;
	}
	return false;
}

enum import_format import_detect(const uint8_t *head, size_t len)
{
	const char *s = (const char *)head;
	size_t i = 0;
	if (len >= 3 && head[0] == 0xef && head[1] == 0xbb && head[2] == 0xbf)
		i = 3;
	for (;;) {
		while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
			i++;
		if (i >= len)
			return IMPORT_AUTO;
		const char *nl = memchr(s + i, '\n', len - i);
		size_t llen = nl ? (size_t)(nl - (s + i)) : len - i;
		const char *l = s + i;
		if (l[0] == '#') {
			if (llen >= 8 && memcmp(l, "#masscan", 8) == 0)
				return IMPORT_MASSCAN_LIST;
			if (!nl)
				return IMPORT_AUTO;
			i += llen + 1;  /* another comment: look at the next line */
			continue;
		}
		if (l[0] == '<')
			return has(l, len - i, "<nmaprun") || (llen >= 5 && memcmp(l, "<?xml", 5) == 0) ? IMPORT_NMAP_XML
													 : IMPORT_AUTO;
		if (l[0] == '[')
			return IMPORT_MASSCAN_JSON;
		if (l[0] == '{') {
			if (has(l, llen, "\"ip_str\"") || has(l, llen, "\"_shodan\""))
				return IMPORT_SHODAN;
			if ((has(l, llen, "\"ports\"") || has(l, llen, "\"rec_type\"")) && has(l, llen, "\"ip\""))
				return IMPORT_MASSCAN_JSON;  /* -oJ, or -oD (NDJSON) */
			if (has(l, llen, "\"ip\"") && has(l, llen, "\"timestamp\"") &&
			    (has(l, llen, "\"transport\"") || has(l, llen, "\"port\"")))
				return IMPORT_VIGIL;
			return IMPORT_AUTO;
		}
		static const char *const list_starts[] = {"open tcp ", "open udp ", "open sctp ", "open icmp ",
							  "closed tcp ", "banner tcp ", "banner udp "};
		for (size_t k = 0; k < sizeof(list_starts) / sizeof(list_starts[0]); k++) {
			size_t kl = strlen(list_starts[k]);
			if (llen >= kl && memcmp(l, list_starts[k], kl) == 0)
				return IMPORT_MASSCAN_LIST;
		}
		if (csv_has_field(l, llen, "saddr"))
			return IMPORT_ZMAP_CSV;
		size_t e = llen;
		while (e > 0 && (l[e - 1] == '\r' || l[e - 1] == ' '))
			e--;
		uint32_t ip;
		if (import_parse_ip(l, e, &ip) == 0)
			return IMPORT_ZMAP_CSV;
		return IMPORT_AUTO;
	}
}

/* ---- source ---- */

void import_src_mem(struct import_src *s, const uint8_t *data, size_t len)
{
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->mem = data;
	s->memlen = len;
	s->at_start = true;
}

void import_src_fd(struct import_src *s, int fd)
{
	memset(s, 0, sizeof(*s));
	s->fd = fd;
	s->at_start = true;
}

void import_src_free(struct import_src *s)
{
	free(s->buf);
	s->buf = NULL;
}

/* fd source: read one more chunk after buf[end]. Returns bytes read, 0 at
 * the end of input or on error. */
static size_t src_fill(struct import_src *s)
{
	if (s->eof)
		return 0;
	if (s->start > 0 && (s->start == s->end || s->start > s->cap / 2)) {
		memmove(s->buf, s->buf + s->start, s->end - s->start);
		s->end -= s->start;
		s->start = 0;
	}
	if (s->cap - s->end < SRC_CHUNK) {
		s->cap = s->end + SRC_CHUNK;
		s->buf = xrealloc(s->buf, s->cap);
	}
	for (;;) {
		ssize_t n = read(s->fd, s->buf + s->end, s->cap - s->end);
		if (n > 0) {
			s->end += (size_t)n;
			return (size_t)n;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			s->read_errno = errno;
		s->eof = true;
		return 0;
	}
}

void import_src_peek(struct import_src *s, size_t want, const uint8_t **head, size_t *len)
{
	if (s->fd < 0) {
		*head = s->mem + s->mempos;
		*len = s->memlen - s->mempos;
		return;
	}
	while (s->end - s->start < want && src_fill(s) > 0)
		;
	*head = s->buf + s->start;
	*len = s->end - s->start;
}

static void drop_bom(struct import_src *s)
{
	if (!s->at_start)
		return;
	s->at_start = false;
	const uint8_t *h;
	size_t n;
	import_src_peek(s, 3, &h, &n);
	if (n >= 3 && h[0] == 0xef && h[1] == 0xbb && h[2] == 0xbf) {
		if (s->fd < 0)
			s->mempos += 3;
		else
			s->start += 3;
	}
}

/* fd source: drop bytes up to and including the next newline. */
static void src_skip_line(struct import_src *s)
{
	for (;;) {
		const uint8_t *q = memchr(s->buf + s->start, '\n', s->end - s->start);
		if (q) {
			s->start = (size_t)(q - s->buf) + 1;
			return;
		}
		s->start = s->end;
		if (src_fill(s) == 0)
			return;
	}
}

int import_src_line(struct import_src *s, const char **line, size_t *len, bool *too_long)
{
	drop_bom(s);
	*too_long = false;
	size_t n;
	if (s->fd < 0) {
		if (s->mempos >= s->memlen)
			return 0;
		const uint8_t *p = s->mem + s->mempos;
		size_t avail = s->memlen - s->mempos;
		const uint8_t *nl = memchr(p, '\n', avail);
		n = nl ? (size_t)(nl - p) : avail;
		s->mempos += nl ? n + 1 : n;
		*line = (const char *)p;
	} else {
		if (s->skipping) {
			src_skip_line(s);
			s->skipping = false;
		}
		size_t scanned = 0;
		const uint8_t *nl;
		for (;;) {
			size_t avail = s->end - s->start;
			nl = memchr(s->buf + s->start + scanned, '\n', avail - scanned);
			if (nl || avail >= IMPORT_MAX_LINE)
				break;
			scanned = avail;
			if (src_fill(s) == 0)
				break;
		}
		size_t avail = s->end - s->start;
		if (avail == 0)
			return 0;
		*line = (const char *)(s->buf + s->start);
		if (nl) {
			n = (size_t)(nl - (s->buf + s->start));
			s->start += n + 1;
		} else {
			n = avail;
			s->start = s->end;
			if (avail >= IMPORT_MAX_LINE)
				s->skipping = true;  /* the rest of this line is dropped on the next call */
		}
	}
	if (n >= IMPORT_MAX_LINE && (n > IMPORT_MAX_LINE || s->skipping)) {
		*too_long = true;
		n = IMPORT_MAX_LINE;
	} else if (n > 0 && (*line)[n - 1] == '\r') {
		n--;
	}
	*len = n;
	s->lineno++;
	return 1;
}

ssize_t import_src_read(struct import_src *s, void *dst, size_t n)
{
	drop_bom(s);
	if (s->fd < 0) {
		size_t avail = s->memlen - s->mempos;
		if (n > avail)
			n = avail;
		memcpy(dst, s->mem + s->mempos, n);
		s->mempos += n;
		return (ssize_t)n;
	}
	if (s->start == s->end && src_fill(s) == 0)
		return s->read_errno ? -1 : 0;
	size_t avail = s->end - s->start;
	if (n > avail)
		n = avail;
	memcpy(dst, s->buf + s->start, n);
	s->start += n;
	return (ssize_t)n;
}

/* ---- context and report ---- */

int import_next_line(struct import_ctx *c, bool comments, const char **line, size_t *len, size_t *start,
		     uint64_t *lineno)
{
	bool too_long;
	while (import_src_line(c->src, line, len, &too_long) > 0) {
		*lineno = c->src->lineno;
		if (too_long) {
			import_bad(c, *lineno, "line longer than %u bytes", IMPORT_MAX_LINE);
			continue;
		}
		size_t i = 0;
		while (i < *len && ((*line)[i] == ' ' || (*line)[i] == '\t'))
			i++;
		if (i == *len || (comments && (*line)[i] == '#'))
			continue;
		*start = i;
		return 1;
	}
	return 0;
}

void import_bad(struct import_ctx *c, uint64_t line, const char *fmt, ...)
{
	struct import_report *r = c->rep;
	r->bad_lines++;
	if (r->nerrors >= IMPORT_MAX_ERRORS)
		return;
	char msg[IMPORT_ERR_LEN];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* messages may quote file content: keep them printable, one line */
	for (char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	snprintf(r->first_errors[r->nerrors], IMPORT_ERR_LEN, "line %llu: %.120s", (unsigned long long)line, msg);
	r->nerrors++;
}

int import_emit(struct import_ctx *c, struct service_record *rec)
{
	int rc = c->emit(c->arg, rec);
	c->rep->records++;
	record_free(rec);
	if (rc != 0) {
		c->stopped = true;
		return -1;
	}
	return 0;
}

/* ---- entry points ---- */

static int import_run(struct import_src *src, enum import_format fmt, uint16_t default_port, time_t default_time,
		      import_emit_fn *emit, void *arg, struct import_report *rep, char *err, size_t errlen)
{
	memset(rep, 0, sizeof(*rep));
	if (fmt == IMPORT_AUTO) {
		/* the first line decides; JSON lines can be long (a Shodan
		 * banner with its HTML), so read on until it is complete */
		const uint8_t *head;
		size_t n, want = DETECT_HEAD;
		for (;;) {
			import_src_peek(src, want, &head, &n);
			size_t i = 0;
			while (i < n && (head[i] == ' ' || head[i] == '\t' || head[i] == '\r' || head[i] == '\n'))
				i++;
			if (n < want || want >= IMPORT_MAX_LINE || memchr(head + i, '\n', n - i))
				break;
			want *= 4;
		}
		if (src->read_errno) {
			snprintf(err, errlen, "read error: %s", strerror(src->read_errno));
			return -1;
		}
		if (n >= 2 && head[0] == 0x1f && head[1] == 0x8b) {
			snprintf(err, errlen, "the file is gzip-compressed: gunzip it first (shodan download writes .json.gz)");
			return -1;
		}
		fmt = import_detect(head, n);
		if (fmt == IMPORT_AUTO) {
			snprintf(err, errlen, "%s", n == 0 ? "the file is empty: nothing to detect the format from"
							   : "unknown file format: give the format (vigil, masscan-json, "
							     "masscan-list, zmap-csv, nmap-xml, shodan)");
			return -1;
		}
	}
	rep->format = fmt;
	struct import_ctx c = {
		.src = src,
		.default_port = default_port,
		.default_time = default_time,
		.emit = emit,
		.arg = arg,
		.rep = rep,
		.arena = ij_arena_new(),
	};
	int rc;
	switch (fmt) {
	case IMPORT_VIGIL: rc = import_read_vigil(&c); break;
	case IMPORT_SHODAN: rc = import_read_shodan(&c); break;
	case IMPORT_MASSCAN_JSON: rc = import_read_masscan_json(&c); break;
	case IMPORT_MASSCAN_LIST: rc = import_read_masscan_list(&c); break;
	case IMPORT_ZMAP_CSV: rc = import_read_zmap(&c); break;
	case IMPORT_NMAP_XML: rc = import_read_nmap(&c); break;
	case IMPORT_AUTO:
	default:
		snprintf(err, errlen, "unknown import format %d", (int)fmt);
		rc = -1;
		break;
	}
	ij_arena_free(c.arena);
	if (c.stopped) {
		snprintf(err, errlen, "import stopped by the consumer after %llu records", (unsigned long long)rep->records);
		return -1;
	}
	if (rc == 0 && src->read_errno) {
		snprintf(err, errlen, "read error after %llu lines: %s", (unsigned long long)src->lineno,
			 strerror(src->read_errno));
		return -1;
	}
	return rc;
}

int import_buffer(const uint8_t *data, size_t len, enum import_format fmt, uint16_t default_port, import_emit_fn *emit,
		  void *arg, struct import_report *rep, char *err, size_t errlen)
{
	struct import_src src;
	import_src_mem(&src, data, len);
	int rc = import_run(&src, fmt, default_port, 0, emit, arg, rep, err, errlen);
	import_src_free(&src);
	return rc;
}

int import_file(const char *path, enum import_format fmt, uint16_t default_port, import_emit_fn *emit, void *arg,
		struct import_report *rep, char *err, size_t errlen)
{
	memset(rep, 0, sizeof(*rep));
	int fd;
	if (strcmp(path, "-") == 0) {
		fd = STDIN_FILENO;
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0) {
			snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
			return -1;
		}
	}
	struct stat st;
	time_t when = time(NULL);
	bool have_st = fstat(fd, &st) == 0;
	if (have_st && S_ISREG(st.st_mode))
		when = st.st_mtime;
	if (have_st && S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "cannot read %s: it is a directory", path);
		if (fd != STDIN_FILENO)
			close(fd);
		return -1;
	}
	struct import_src src;
	import_src_fd(&src, fd);
	int rc = import_run(&src, fmt, default_port, when, emit, arg, rep, err, errlen);
	import_src_free(&src);
	if (fd != STDIN_FILENO)
		close(fd);
	return rc;
}
