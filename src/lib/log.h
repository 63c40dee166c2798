/* log.h - one-line error reporting for the CLI: what is wrong and what to do. */
#ifndef VIGIL_LOG_H
#define VIGIL_LOG_H

#include <stdarg.h>
#include <stdnoreturn.h>

/* Exit code for bad usage or an environment problem the user can fix. */
#define LOG_EXIT_USAGE 2

/* Print "vigil: <message>" on stderr and exit with LOG_EXIT_USAGE. */
noreturn void log_die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print "vigil: warning: <message>" on stderr. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print "vigil: <message>" on stderr. */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
