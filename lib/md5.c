/* md5: RFC 1321.  The message is taken in 64-byte blocks, each read as
 * sixteen little-endian 32-bit words; four rounds of sixteen steps mix
 * them into the four state words.  The end is marked by a 0x80 byte,
 * zeros up to 56 bytes into a block, and the length in bits as a
 * little-endian 64-bit number. */
#include <string.h>

#include "md5.h"

/* The additive constant of step i: the integer part of
 * 2^32 * |sin(i + 1)| (i in radians), written out so that no floating
 * point is involved. */
static const uint32_t sine[64] = {
	0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a,
	0xa8304613, 0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be,
	0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340,
	0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
	0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8,
	0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c,
	0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
	0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
	0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92,
	0xffeff47d, 0x85845dd1, 0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1,
	0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

/* How far each step rotates: four amounts per round, repeated. */
static const unsigned char shift[4][4] = {
	{ 7, 12, 17, 22 }, { 5, 9, 14, 20 }, { 4, 11, 16, 23 }, { 6, 10, 15, 21 },
};

static uint32_t
rotl(uint32_t x, unsigned n)
{
	return (x << n) | (x >> (32 - n));
}

static void
md5_block(uint32_t state[4], const unsigned char p[64])
{
	uint32_t w[16], a = state[0], b = state[1], c = state[2], d = state[3];
	unsigned i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 |
		    (uint32_t)p[4 * i + 2] << 16 | (uint32_t)p[4 * i + 3] << 24;
	for (i = 0; i < 64; i++) {
		uint32_t f, t;
		unsigned k, round = i / 16;

		/* Each round has its own bit function and its own order of
		 * taking the sixteen words. */
		switch (round) {
		case 0:
			f = (b & c) | (~b & d);
			k = i;
			break;
		case 1:
			f = (b & d) | (c & ~d);
			k = (5 * i + 1) % 16;
			break;
		case 2:
			f = b ^ c ^ d;
			k = (3 * i + 5) % 16;
			break;
		default:
			f = c ^ (b | ~d);
			k = (7 * i) % 16;
			break;
		}
		t = d;
		d = c;
		c = b;
		b = b + rotl(a + f + sine[i] + w[k], shift[round][i % 4]);
		a = t;
	}
	state[0] += a;
	state[1] += b;
	state[2] += c;
	state[3] += d;
	explicit_bzero(w, sizeof w);
}

void
md5_init(struct md5 *m)
{
	m->state[0] = 0x67452301;
	m->state[1] = 0xefcdab89;
	m->state[2] = 0x98badcfe;
	m->state[3] = 0x10325476;
	m->bytes = 0;
}

void
md5_update(struct md5 *m, const void *data, size_t n)
{
	const unsigned char *p = data;
	size_t have = (size_t)(m->bytes % 64);

	m->bytes += n;
	if (have > 0) {
		size_t take = 64 - have < n ? 64 - have : n;

		memcpy(m->block + have, p, take);
		p += take;
		n -= take;
		if (have + take < 64)
			return;
		md5_block(m->state, m->block);
	}
	for (; n >= 64; p += 64, n -= 64)
		md5_block(m->state, p);
	if (n > 0)
		memcpy(m->block, p, n);
}

void
md5_final(struct md5 *m, unsigned char out[16])
{
	static const unsigned char pad[64] = { 0x80 };
	unsigned char len[8];
	uint64_t bits = m->bytes * 8;
	size_t have = (size_t)(m->bytes % 64);
	unsigned i;

	for (i = 0; i < 8; i++)
		len[i] = (unsigned char)(bits >> (8 * i));
	md5_update(m, pad, have < 56 ? 56 - have : 120 - have);
	md5_update(m, len, 8);
	for (i = 0; i < 16; i++)
		out[i] = (unsigned char)(m->state[i / 4] >> (8 * (i % 4)));
	/* The block held the input, and the input may be a passport.  (Not
	 * secret_wipe: the fake Moodle builds this file alone.) */
	explicit_bzero(m, sizeof *m);
}

void
md5_hex(const void *data, size_t n, char hex[33])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char d[16];
	struct md5 m;
	unsigned i;

	md5_init(&m);
	md5_update(&m, data, n);
	md5_final(&m, d);
	for (i = 0; i < 16; i++) {
		hex[2 * i] = digits[d[i] >> 4];
		hex[2 * i + 1] = digits[d[i] & 15];
	}
	hex[32] = '\0';
}
