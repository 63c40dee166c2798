/* test_packet.c - SYN frames, cookie validation, hostile reply frames,
 * SipHash test vector, JSON escaping, dedup, resume file round trip. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/siphash.h"
#include "lib/strbuf.h"
#include "scan/dedup.h"
#include "scan/packet.h"
#include "scan/resume.h"
#include "test.h"

static struct packet_template tpl(void)
{
	struct packet_template t = {.src_ip = 0xc6120001, .ttl = 64};  /* 198.18.0.1 */
	for (int i = 0; i < 16; i++)
		t.key[i] = (uint8_t)i;
	memcpy(t.src_mac, "\x02\x00\x00\x00\x00\x01", 6);
	memcpy(t.dst_mac, "\x02\x00\x00\x00\x00\x02", 6);
	return t;
}

TEST(siphash_reference_vector)
{
	/* SipHash-2-4 paper, appendix A: key 00..0f, message 00..0e */
	uint8_t key[16], msg[15];
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (int i = 0; i < 15; i++)
		msg[i] = (uint8_t)i;
	CHECK(siphash24(key, msg, 15) == 0xa129ca6149be45e5ULL);
	CHECK(siphash24(key, msg, 0) == 0x726fdb47dd0e0e31ULL);
}

TEST(packet_syn_is_valid)
{
	struct packet_template t = tpl();
	uint8_t f[PACKET_SYN_LEN];
	packet_make_syn(f, &t, 0xc6130008, 80);
	struct packet_tcp seg;
	CHECK(packet_parse_tcp(f, sizeof(f), &seg) == 0);
	CHECK(seg.saddr == t.src_ip && seg.daddr == 0xc6130008 && seg.dport == 80 && seg.flags == TCP_SYN);
	CHECK(seg.sport >= PACKET_SPORT_BASE && seg.sport < PACKET_SPORT_BASE + PACKET_SPORT_COUNT);
	/* checksums verify to zero */
	CHECK(packet_checksum(f + 14, 20, 0) == 0);
	uint32_t pseudo = (t.src_ip >> 16) + (t.src_ip & 0xffff) + (0xc6130008u >> 16) + (0xc6130008u & 0xffff) + 6 + 24;
	CHECK(packet_checksum(f + 34, 24, pseudo) == 0);
}

/* Build the SYN-ACK a target would send for our probe. */
static void make_reply(uint8_t *f, const struct packet_template *t, uint32_t them, uint16_t port, uint32_t ack_delta, uint8_t flags)
{
	struct packet_template rev = *t;
	rev.src_ip = them;
	packet_make_syn(f, &rev, t->src_ip, 1);  /* a well-formed frame to edit */
	struct packet_cookie c;
	packet_cookie(t, them, port, &c);
	uint8_t *tcp = f + 34;
	tcp[0] = (uint8_t)(port >> 8);
	tcp[1] = (uint8_t)port;
	tcp[2] = (uint8_t)(c.sport >> 8);
	tcp[3] = (uint8_t)c.sport;
	uint32_t ack = c.seq + ack_delta;
	tcp[8] = (uint8_t)(ack >> 24);
	tcp[9] = (uint8_t)(ack >> 16);
	tcp[10] = (uint8_t)(ack >> 8);
	tcp[11] = (uint8_t)ack;
	tcp[13] = flags;
}

TEST(packet_cookie_validation)
{
	struct packet_template t = tpl();
	uint8_t f[PACKET_SYN_LEN];
	struct packet_tcp seg;
	make_reply(f, &t, 0xc6130008, 80, 1, TCP_SYN | TCP_ACK);
	CHECK(packet_parse_tcp(f, sizeof(f), &seg) == 0 && packet_is_our_synack(&t, &seg));
	make_reply(f, &t, 0xc6130008, 80, 2, TCP_SYN | TCP_ACK);  /* wrong ack */
	CHECK(packet_parse_tcp(f, sizeof(f), &seg) == 0 && !packet_is_our_synack(&t, &seg));
	make_reply(f, &t, 0xc6130008, 80, 1, TCP_RST | TCP_ACK);  /* closed */
	CHECK(packet_parse_tcp(f, sizeof(f), &seg) == 0 && !packet_is_our_synack(&t, &seg));
	CHECK(packet_is_our_rst(&t, &seg));  /* counted as an answer */
	make_reply(f, &t, 0xc6130008, 80, 7, TCP_RST | TCP_ACK);  /* RST with a wrong ack */
	CHECK(packet_parse_tcp(f, sizeof(f), &seg) == 0 && !packet_is_our_rst(&t, &seg));
	make_reply(f, &t, 0xc6130008, 80, 1, TCP_SYN | TCP_ACK);
	CHECK(packet_parse_tcp(f, sizeof(f), &seg) == 0 && !packet_is_our_rst(&t, &seg));
	make_reply(f, &t, 0xc6130009, 80, 1, TCP_SYN | TCP_ACK);
	f[14 + 15] ^= 1;  /* reply claims another source address */
	CHECK(packet_parse_tcp(f, sizeof(f), &seg) == 0 && !packet_is_our_synack(&t, &seg));
	struct packet_template other = t;
	other.key[0] ^= 1;  /* a different scan's key */
	make_reply(f, &t, 0xc6130008, 80, 1, TCP_SYN | TCP_ACK);
	CHECK(packet_parse_tcp(f, sizeof(f), &seg) == 0 && !packet_is_our_synack(&other, &seg));
}

TEST(packet_parse_hostile_frames)
{
	struct packet_template t = tpl();
	uint8_t f[PACKET_SYN_LEN], g[PACKET_SYN_LEN];
	struct packet_tcp seg;
	packet_make_syn(f, &t, 0xc6130008, 80);
	for (size_t len = 0; len < 54; len++)  /* every truncation */
		CHECK(packet_parse_tcp(f, len, &seg) < 0);
	memcpy(g, f, sizeof(g));
	g[14] = 0x44;  /* IHL 16 bytes */
	CHECK(packet_parse_tcp(g, sizeof(g), &seg) < 0);
	memcpy(g, f, sizeof(g));
	g[14] = 0x4f;  /* IHL 60 bytes > total */
	CHECK(packet_parse_tcp(g, sizeof(g), &seg) < 0);
	memcpy(g, f, sizeof(g));
	g[16] = 0xff;  /* total length beyond the frame */
	CHECK(packet_parse_tcp(g, sizeof(g), &seg) < 0);
	memcpy(g, f, sizeof(g));
	g[46] = 0xf0;  /* TCP data offset 60 > segment */
	CHECK(packet_parse_tcp(g, sizeof(g), &seg) < 0);
	memcpy(g, f, sizeof(g));
	g[46] = 0x10;  /* TCP data offset 4 < 20 */
	CHECK(packet_parse_tcp(g, sizeof(g), &seg) < 0);
	memcpy(g, f, sizeof(g));
	g[23] = 17;  /* UDP */
	CHECK(packet_parse_tcp(g, sizeof(g), &seg) < 0);
	memcpy(g, f, sizeof(g));
	g[12] = 0x86;  /* IPv6 ethertype */
	g[13] = 0xdd;
	CHECK(packet_parse_tcp(g, sizeof(g), &seg) < 0);
	memcpy(g, f, sizeof(g));
	g[20] = 0x00;  /* fragment offset != 0 */
	g[21] = 0x10;
	CHECK(packet_parse_tcp(g, sizeof(g), &seg) < 0);
}

TEST(json_escaping)
{
	struct strbuf sb;
	strbuf_init(&sb);
	strbuf_json_str(&sb, "a\"b\\c\n\x01\x7f", 8);
	CHECK(strcmp(sb.data, "\"a\\\"b\\\\c\\n\\u0001\\u007f\"") == 0);
	strbuf_reset(&sb);
	strbuf_json_str(&sb, "\xc3\xa9\xff\xe2\x82", 5);  /* valid é, invalid ff, truncated euro */
	CHECK(strcmp(sb.data, "\"\xc3\xa9\\u00ff\\u00e2\\u0082\"") == 0);
	strbuf_reset(&sb);
	strbuf_json_str(&sb, "\xed\xa0\x80", 3);  /* UTF-16 surrogate encoded: invalid */
	CHECK(strcmp(sb.data, "\"\\u00ed\\u00a0\\u0080\"") == 0);
	strbuf_reset(&sb);
	strbuf_json_str(&sb, "\0", 1);
	CHECK(strcmp(sb.data, "\"\\u0000\"") == 0);
	strbuf_free(&sb);
}

TEST(dedup_reports_once)
{
	struct dedup d;
	dedup_init(&d);
	CHECK(dedup_first(&d, 1, 80));
	CHECK(!dedup_first(&d, 1, 80));
	CHECK(dedup_first(&d, 1, 443));
	CHECK(dedup_first(&d, 2, 80));
	int fresh = 0;
	for (uint32_t ip = 0; ip < 100000; ip++)
		fresh += dedup_first(&d, 0xc6130000 + ip, 80);
	CHECK(fresh == 100000);
	int dups = 0;
	for (uint32_t ip = 0; ip < 100000; ip++)
		dups += !dedup_first(&d, 0xc6130000 + ip, 80);
	CHECK(dups == 100000);
	dedup_free(&d);
}

TEST(resume_round_trip)
{
	char path[] = "/tmp/vigil-test-resume-XXXXXX";
	int fd = mkstemp(path);
	close(fd);
	char a0[] = "scan", a1[] = "198.19.0.0/16", a2[] = "-p", a3[] = "80,443", a4[] = "weird arg %\n\x01";
	char *argv[] = {a0, a1, a2, a3, a4};
	struct resume_state st = {.seed = 18446744073709551615ULL, .position = 12345, .argv = argv, .argc = 5};
	char err[256];
	CHECK(resume_write(path, &st, err, sizeof(err)) == 0);
	struct resume_state back;
	CHECK(resume_read(path, &back, err, sizeof(err)) == 1);
	CHECK(back.seed == st.seed && back.position == 12345 && back.argc == 5);
	for (int i = 0; i < 5 && i < back.argc; i++)
		CHECK(strcmp(back.argv[i], argv[i]) == 0);
	resume_free(&back);
	/* a damaged file is an error, a missing one means "start afresh" */
	FILE *f = fopen(path, "w");
	fputs("vigil-resume 1\nseed x\n", f);
	fclose(f);
	CHECK(resume_read(path, &back, err, sizeof(err)) == -1);
	unlink(path);
	CHECK(resume_read(path, &back, err, sizeof(err)) == 0);
}
