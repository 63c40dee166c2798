/* probe_int.h - internals shared by the probe engine and its modules: the
 * session (one service being probed) and the probe module interface. */
#ifndef VIGIL_PROBE_INT_H
#define VIGIL_PROBE_INT_H

#include <openssl/ssl.h>

#include "lib/strbuf.h"
#include "probe/http.h"
#include "probe/probe.h"

/* What a module callback asks the engine to do next. */
enum probe_action {
	PROBE_CONTINUE = 0,     /* keep the connection, wait for data */
	PROBE_DONE,             /* service finished: emit the record */
	PROBE_RECONNECT,        /* close and reconnect (same transport) */
	PROBE_RECONNECT_TLS,    /* reconnect speaking TLS */
	PROBE_RECONNECT_PLAIN,  /* reconnect without TLS */
};

struct probe_session;

/* A protocol spoken on a connection. The engine owns sockets, TLS,
 * buffers and timeouts; a module only sees bytes. */
struct probe_module {
	const char *name;
	/* The transport is ready (connected, TLS done). Queue bytes with
	 * probe_send() or wait for the server to speak. */
	enum probe_action (*start)(struct probe_session *s);
	enum probe_action (*on_data)(struct probe_session *s, uint8_t *data, size_t len);
	/* The peer closed the connection. */
	enum probe_action (*on_eof)(struct probe_session *s);
	/* Nothing arrived within the read timeout (or the module's own wait). */
	enum probe_action (*on_timeout)(struct probe_session *s);
	/* Connecting or the TLS handshake failed. */
	enum probe_action (*on_connect_error)(struct probe_session *s, const char *why);
	/* Fill the record before it is emitted. */
	void (*finish)(struct probe_session *s);
	void (*cleanup)(struct probe_session *s);
};

extern const struct probe_module probe_module_banner;
extern const struct probe_module probe_module_http;

#define PROBE_BANNER_MAX 1024

struct probe_http_state {
	struct http_parser parser;
	bool parser_live;
	int phase;                  /* 0 root, 1 favicon, 2 checks, 3 done */
	int check_idx;
	struct detect_request req;  /* the request in flight */
	bool have_req;
	bool req_is_check;
	int req_check;
	int requests;
	int resends;                /* of the current request */
	bool reused;                /* the connection already served a response */
	bool have_root;
	struct http_response root;
	bool saw_http;
	void *check_state[4];
};

struct probe_session {
	struct probe_engine *eng;
	int slot;
	bool used;
	int fd;
	SSL *ssl;
	bool use_tls;
	bool tried_tls, tried_plain;
	int state;                  /* engine connection state */
	int connects;
	uint32_t gen;               /* connection generation (epoll key) */
	uint32_t events;            /* epoll interest currently registered */
	double deadline;            /* connect / read / module wait */
	double total_deadline;
	struct strbuf out;
	size_t out_off;
	const struct probe_module *mod;
	struct service_record rec;
	/* module state */
	uint8_t banner[PROBE_BANNER_MAX];
	size_t banner_len;
	bool banner_waiting_more;
	struct probe_http_state http;
};

/* Queue bytes to send on the session's connection. */
void probe_send(struct probe_session *s, const void *data, size_t len);
/* Set the module's own wait (seconds from now), replacing the read timeout. */
void probe_wait(struct probe_session *s, double seconds);
/* Switch to another module on the same connection and start it. */
enum probe_action probe_switch(struct probe_session *s, const struct probe_module *m);
const struct probe_config *probe_session_config(const struct probe_session *s);
/* Record the negotiated TLS parameters and the leaf certificate. */
void probe_tls_describe(SSL *ssl, struct record_tls *t);

#endif
