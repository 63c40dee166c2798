/* fuzz_packet.c - libFuzzer target for the reply-frame parser and the
 * cookie check: every frame on the wire is attacker-controlled. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scan/packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* copy into an exact-size buffer so ASan sees any overread */
	uint8_t *frame = malloc(size ? size : 1);
	memcpy(frame, data, size);
	struct packet_template t = {.src_ip = 0xc6120001, .ttl = 64};
	struct packet_tcp seg;
	if (packet_parse_tcp(frame, size, &seg) == 0)
		(void)packet_is_our_synack(&t, &seg);
	free(frame);
	return 0;
}
