/* packet.c - builds SYN probes and validates replies (the packet engine's
 * wire format). All loads from received frames go through bounds-checked
 * byte reads; nothing is cast from the buffer. */
#include "scan/packet.h"

#include <string.h>

#include "lib/siphash.h"

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

uint16_t packet_checksum(const void *data, size_t len, uint32_t initial)
{
	const uint8_t *p = data;
	uint32_t sum = initial;
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)((p[i] << 8) | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)(p[len - 1] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

void packet_cookie(const struct packet_template *t, uint32_t dst_ip, uint16_t dst_port, struct packet_cookie *c)
{
	uint8_t in[10];
	put32(in, dst_ip);
	put16(in + 4, dst_port);
	put32(in + 6, t->src_ip);
	uint64_t h = siphash24(t->key, in, sizeof(in));
	c->seq = (uint32_t)h;
	c->sport = (uint16_t)(PACKET_SPORT_BASE + (uint32_t)((h >> 32) & 0xffff) % PACKET_SPORT_COUNT);
	c->ip_id = (uint16_t)(h >> 48);
}

void packet_make_syn(uint8_t *buf, const struct packet_template *t, uint32_t dst_ip, uint16_t dst_port)
{
	struct packet_cookie c;
	packet_cookie(t, dst_ip, dst_port, &c);
	uint8_t *eth = buf, *ip = buf + 14, *tcp = buf + 34;

	memcpy(eth, t->dst_mac, 6);
	memcpy(eth + 6, t->src_mac, 6);
	put16(eth + 12, 0x0800);

	ip[0] = 0x45;
	ip[1] = 0;
	put16(ip + 2, 20 + 24);
	put16(ip + 4, c.ip_id);
	put16(ip + 6, 0);  /* no fragmentation flags */
	ip[8] = t->ttl;
	ip[9] = 6;
	put16(ip + 10, 0);
	put32(ip + 12, t->src_ip);
	put32(ip + 16, dst_ip);
	put16(ip + 10, packet_checksum(ip, 20, 0));

	put16(tcp, c.sport);
	put16(tcp + 2, dst_port);
	put32(tcp + 4, c.seq);
	put32(tcp + 8, 0);
	tcp[12] = 6 << 4;  /* data offset: 24 bytes */
	tcp[13] = TCP_SYN;
	put16(tcp + 14, 65535);
	put16(tcp + 16, 0);
	put16(tcp + 18, 0);
	tcp[20] = 2;  /* MSS option */
	tcp[21] = 4;
	put16(tcp + 22, 1460);
	/* pseudo-header: src, dst, protocol, TCP length */
	uint32_t pseudo = (t->src_ip >> 16) + (t->src_ip & 0xffff) + (dst_ip >> 16) + (dst_ip & 0xffff) + 6 + 24;
	put16(tcp + 16, packet_checksum(tcp, 24, pseudo));
}

int packet_parse_tcp(const uint8_t *frame, size_t len, struct packet_tcp *out)
{
	size_t off = 14;
	if (len < off + 20)
		return -1;
	uint16_t ethertype = get16(frame + 12);
	if (ethertype == 0x8100) {  /* one VLAN tag */
		if (len < 18 + 20)
			return -1;
		ethertype = get16(frame + 16);
		off = 18;
	}
	if (ethertype != 0x0800)
		return -1;
	const uint8_t *ip = frame + off;
	if ((ip[0] >> 4) != 4)
		return -1;
	size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
	size_t total = get16(ip + 2);
	if (ihl < 20 || total < ihl || off + total > len)
		return -1;
	if (ip[9] != 6)
		return -1;
	if ((get16(ip + 6) & 0x1fff) != 0)  /* a non-first fragment */
		return -1;
	const uint8_t *tcp = ip + ihl;
	size_t tcplen = total - ihl;
	if (tcplen < 20 || (size_t)(tcp[12] >> 4) * 4 < 20 || (size_t)(tcp[12] >> 4) * 4 > tcplen)
		return -1;
	out->saddr = get32(ip + 12);
	out->daddr = get32(ip + 16);
	out->sport = get16(tcp);
	out->dport = get16(tcp + 2);
	out->seq = get32(tcp + 4);
	out->ack = get32(tcp + 8);
	out->flags = tcp[13];
	return 0;
}

/* seg comes back to our address, on one of our source ports, and
 * acknowledges the cookie of the probe sent to its source. */
static bool packet_answers_probe(const struct packet_template *t, const struct packet_tcp *seg)
{
	if (seg->daddr != t->src_ip)
		return false;
	if (seg->dport < PACKET_SPORT_BASE || seg->dport >= PACKET_SPORT_BASE + PACKET_SPORT_COUNT)
		return false;
	struct packet_cookie c;
	packet_cookie(t, seg->saddr, seg->sport, &c);
	return seg->dport == c.sport && seg->ack == c.seq + 1;
}

bool packet_is_our_synack(const struct packet_template *t, const struct packet_tcp *seg)
{
	return (seg->flags & (TCP_SYN | TCP_ACK | TCP_RST)) == (TCP_SYN | TCP_ACK) && packet_answers_probe(t, seg);
}

bool packet_is_our_rst(const struct packet_template *t, const struct packet_tcp *seg)
{
	return (seg->flags & (TCP_SYN | TCP_ACK | TCP_RST)) == (TCP_RST | TCP_ACK) && packet_answers_probe(t, seg);
}
