/* import.h - reads scan results written by other tools (masscan -oJ/-oL,
 * ZMap CSV, Nmap -oX, Shodan banner files) and vigil's own JSON Lines back
 * into service records, one emit() call per service. Input files are
 * hostile: every reader is bounded (line and field caps), streams (memory
 * does not grow with the file), and reports a bad line instead of failing. */
#ifndef VIGIL_IMPORT_H
#define VIGIL_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "lib/record.h"

enum import_format {
	IMPORT_AUTO,          /* detect from the first bytes; also "unknown" from import_detect */
	IMPORT_VIGIL,         /* vigil JSON Lines (record_to_json) */
	IMPORT_MASSCAN_JSON,  /* masscan -oJ */
	IMPORT_MASSCAN_LIST,  /* masscan -oL */
	IMPORT_ZMAP_CSV,      /* ZMap csv output, with or without header row */
	IMPORT_NMAP_XML,      /* Nmap -oX (and masscan -oX, which mimics it) */
	IMPORT_SHODAN,        /* Shodan banners, one JSON per line (gunzipped `shodan download`) */
};

#define IMPORT_MAX_ERRORS 5
#define IMPORT_ERR_LEN 160
/* Longest accepted line (or masscan JSON object); longer ones are bad lines. */
#define IMPORT_MAX_LINE (4u << 20)
/* Longest banner kept from an imported file (longer ones are cut). */
#define IMPORT_MAX_BANNER (64u << 10)

/* Called once per service found in the file; rec is freed after the call.
 * A non-zero return stops the import. */
typedef int import_emit_fn(void *arg, const struct service_record *rec);

struct import_report {
	uint64_t records;     /* emit() calls */
	uint64_t bad_lines;   /* lines/objects that could not be imported */
	uint64_t skipped;     /* well-formed but not a service: closed ports, ZMap success=0 or repeat=1 */
	enum import_format format;  /* the format actually read (after auto-detection) */
	char first_errors[IMPORT_MAX_ERRORS][IMPORT_ERR_LEN];  /* "line 12: expected ..." */
	int nerrors;          /* entries used in first_errors */
};

/* Parse a format name: "vigil", "masscan-json", "masscan-list", "zmap-csv",
 * "nmap-xml", "shodan", "auto". Returns 0, or -1 for an unknown name. */
int import_format_parse(const char *name, enum import_format *out);
/* The name import_format_parse accepts for f ("auto" for IMPORT_AUTO). */
const char *import_format_name(enum import_format f);

/* Detect the format from the first bytes of a file (give at least its first
 * line: import_file reads up to IMPORT_MAX_LINE for it). Returns
 * IMPORT_AUTO when nothing matches. */
enum import_format import_detect(const uint8_t *head, size_t len);

/* Read path ("-" = stdin) and emit every service in it. default_port is
 * used by formats that carry no port (ZMap output with only saddr); 0 makes
 * such lines errors. Records without a timestamp in the file (plain ZMap)
 * get the file's modification time (stdin: the current time).
 * Returns 0 when the file was read, even with bad lines (counted in rep);
 * -1 with a message in err when it cannot be read, the format is unknown
 * (auto-detection failed, gzip input) or emit() asked to stop. */
int import_file(const char *path, enum import_format fmt, uint16_t default_port, import_emit_fn *emit, void *arg,
		struct import_report *rep, char *err, size_t errlen);

/* Same as import_file over a memory buffer (records without a timestamp get
 * 0). Used by tests and the fuzzer. */
int import_buffer(const uint8_t *data, size_t len, enum import_format fmt, uint16_t default_port, import_emit_fn *emit,
		  void *arg, struct import_report *rep, char *err, size_t errlen);

/* Parse one vigil JSON Lines record (as record_to_json writes it, with or
 * without the trailing newline) into rec, which the call initialises; on
 * success the caller frees it with record_free. For every record vigil
 * writes, record_to_json(import_vigil_line(x)) == x byte for byte.
 * Returns 0, or -1 with a message in err (rec is then already freed). */
int import_vigil_line(const char *line, size_t len, struct service_record *rec, char *err, size_t errlen);

#endif
