/* mod_banner.c - the banner probe: waits for a server that speaks first
 * (SSH, SMTP, FTP...), keeps its first bytes (capped), and hands over to the
 * HTTP probe when the server stays silent, or to TLS when it answers with
 * TLS records. */
#include <string.h>

#include "probe/probe_int.h"

static enum probe_action banner_start(struct probe_session *s)
{
	probe_wait(s, probe_session_config(s)->banner_wait_ms / 1000.0);
	return PROBE_CONTINUE;
}

static enum probe_action banner_on_data(struct probe_session *s, uint8_t *data, size_t len)
{
	size_t room = PROBE_BANNER_MAX - s->banner_len;
	size_t n = len < room ? len : room;
	memcpy(s->banner + s->banner_len, data, n);
	s->banner_len += n;
	if (s->banner_len >= PROBE_BANNER_MAX)
		return PROBE_DONE;
	/* a greeting usually comes in one piece; allow a moment for more */
	if (!s->banner_waiting_more) {
		s->banner_waiting_more = true;
		probe_wait(s, 0.3);
	}
	return PROBE_CONTINUE;
}

static enum probe_action banner_on_eof(struct probe_session *s)
{
	(void)s;
	return PROBE_DONE;
}

static enum probe_action banner_on_timeout(struct probe_session *s)
{
	if (s->banner_len > 0)
		return PROBE_DONE;
	/* silent server: maybe it waits for a request */
	return probe_switch(s, &probe_module_http);
}

static enum probe_action banner_on_connect_error(struct probe_session *s, const char *why)
{
	record_set(&s->rec.error, why);
	return PROBE_DONE;
}

const struct probe_module probe_module_banner = {
	.name = "banner",
	.start = banner_start,
	.on_data = banner_on_data,
	.on_eof = banner_on_eof,
	.on_timeout = banner_on_timeout,
	.on_connect_error = banner_on_connect_error,
};
