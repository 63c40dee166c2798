/* log.c - one-line messages on stderr; fatal usage errors exit with code 2. */
#include "lib/log.h"

#include <stdio.h>
#include <stdlib.h>

static void log_vprint(const char *prefix, const char *fmt, va_list ap)
{
	char line[1024];
	vsnprintf(line, sizeof(line), fmt, ap);
	fprintf(stderr, "vigil: %s%s\n", prefix, line);
}

void log_die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vprint("", fmt, ap);
	va_end(ap);
	exit(LOG_EXIT_USAGE);
}

void log_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vprint("warning: ", fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vprint("", fmt, ap);
	va_end(ap);
}
