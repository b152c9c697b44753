/* sha256.c: fetch SHA-256 once for every hash signerd computes. */
#include "signerd/sha256.h"

#include <pthread.h>
#include <stdlib.h>

static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD *sha256_md;

static void
sha256_fetch(void)
{
	sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

const EVP_MD *
sd_sha256(void)
{
	pthread_once(&sha256_once, sha256_fetch);
	if (sha256_md == NULL)
		abort();
	return sha256_md;
}

void
sd_sha256_buf(uint8_t out[32], const void *p, size_t n)
{
	unsigned int len = 32;

	if (EVP_Digest(p, n, out, &len, sd_sha256(), NULL) != 1 || len != 32)
		abort();
}
