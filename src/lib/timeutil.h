/* timeutil.h - monotonic clock and RFC 3339 timestamps. */
#ifndef VIGIL_TIMEUTIL_H
#define VIGIL_TIMEUTIL_H

#include <stddef.h>
#include <time.h>

/* Seconds on the monotonic clock. */
double time_mono(void);
/* Write "YYYY-MM-DDTHH:MM:SSZ" (UTC) for t into buf (at least 21 bytes). */
void time_rfc3339(char *buf, size_t size, time_t t);
/* Sleep for the given number of seconds (fractions allowed). */
void time_sleep(double seconds);

#endif
