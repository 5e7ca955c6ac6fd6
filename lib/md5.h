/* md5: the MD5 message digest (RFC 1321), for one job only: Moodle signs
 * the link that hands a token to the app with md5(wwwroot . passport)
 * (see lib/login.h).  MD5 is broken as a defence against forgery by a
 * chosen message; here it only ties a link to the passport we made, which
 * is what Moodle gives us.  None of our libraries (libcurl, json-c, LMDB,
 * inih) offers it, so it is written here, small and tested against the
 * RFC's own examples. */
#ifndef MC_MD5_H
#define MC_MD5_H

#include <stddef.h>
#include <stdint.h>

/* A digest being computed: fill with md5_init, feed with md5_update, end
 * with md5_final.  Plain data, no allocation. */
struct md5 {
	uint32_t state[4];       /* A, B, C, D                         */
	uint64_t bytes;          /* message length so far, in bytes    */
	unsigned char block[64]; /* input not yet processed            */
};

/* Start a digest. */
void md5_init(struct md5 *m);

/* Add n bytes at data (n may be 0). */
void md5_update(struct md5 *m, const void *data, size_t n);

/* Finish: the 16-byte digest into out; m is wiped (it may have held a
 * secret) and must be md5_init'ed before reuse. */
void md5_final(struct md5 *m, unsigned char out[16]);

/* The digest of data[0..n) as 32 lowercase hex digits and a NUL. */
void md5_hex(const void *data, size_t n, char hex[33]);

#endif
