/* packet.h - SYN probe frames and stateless reply validation.
 *
 * Each probe's TCP source port, sequence number and IP ID derive from a
 * SipHash of (target ip, target port, our ip) under a per-scan random key,
 * so a SYN-ACK is accepted only if it comes back to the right port and
 * acknowledges our cookie: no per-target state is kept. */
#ifndef VIGIL_PACKET_H
#define VIGIL_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PACKET_SYN_LEN 58        /* ethernet 14 + ipv4 20 + tcp 24 (MSS) */
#define PACKET_SPORT_BASE 61000  /* above Linux's default ephemeral range */
#define PACKET_SPORT_COUNT 4535  /* 61000..65534 */

struct packet_template {
	uint8_t src_mac[6];
	uint8_t dst_mac[6];
	uint32_t src_ip;   /* host order */
	uint8_t key[16];   /* SipHash key */
	uint8_t ttl;
};

struct packet_cookie {
	uint16_t sport;
	uint32_t seq;
	uint16_t ip_id;
};

/* A parsed TCP segment (all fields host order). */
struct packet_tcp {
	uint32_t saddr, daddr;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
};

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

void packet_cookie(const struct packet_template *t, uint32_t dst_ip, uint16_t dst_port, struct packet_cookie *c);
/* Write a SYN frame to buf (PACKET_SYN_LEN bytes). */
void packet_make_syn(uint8_t *buf, const struct packet_template *t, uint32_t dst_ip, uint16_t dst_port);
/* Parse an Ethernet/IPv4/TCP frame with every length checked.
 * Returns 0, or -1 if it is not a well-formed IPv4 TCP segment. */
int packet_parse_tcp(const uint8_t *frame, size_t len, struct packet_tcp *out);
/* True if seg is a SYN-ACK answering one of our probes. */
bool packet_is_our_synack(const struct packet_template *t, const struct packet_tcp *seg);
/* True if seg is an RST answering one of our probes (a closed port). */
bool packet_is_our_rst(const struct packet_template *t, const struct packet_tcp *seg);
/* RFC 1071 checksum helper, exposed for tests. */
uint16_t packet_checksum(const void *data, size_t len, uint32_t initial);

#endif
