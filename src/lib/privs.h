/* privs.h - give up privileges once the raw sockets are open. */
#ifndef VIGIL_PRIVS_H
#define VIGIL_PRIVS_H

#include <stddef.h>

/* Drop every capability (effective, permitted, inheritable and the bounding
 * set) and forbid gaining new ones (no_new_privs). Sockets and files opened
 * before stay usable; the process can no longer open raw sockets, override
 * file permissions or load anything privileged. A no-op for a process
 * without capabilities. Returns 0, or -1 with a message in err. */
int privs_drop_all(char *err, size_t errlen);

#endif
