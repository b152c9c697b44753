/* util.c: wiping, constant-time compare, hex and JSON escaping. */
#include "common/util.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/err.h"

uint64_t
util_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void
util_wipe(void *p, size_t n)
{
	if (p != NULL && n > 0)
		explicit_bzero(p, n);
}

int
util_ct_compare(const void *a, const void *b, size_t n)
{
	const volatile uint8_t *pa = a, *pb = b;
	uint8_t acc = 0;
	size_t i;

	for (i = 0; i < n; i++)
		acc |= pa[i] ^ pb[i];
	return acc != 0;
}

void
util_hex_encode(char *out, const uint8_t *in, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

void
util_hex_encode_0x(char *out, const uint8_t *in, size_t n)
{
	out[0] = '0';
	out[1] = 'x';
	util_hex_encode(out + 2, in, n);
}

static int
hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
util_hex_decode_var(uint8_t *out, size_t cap, size_t *outlen, const char *hex)
{
	size_t n, i;
	int hi, lo;

	*outlen = 0;
	if (hex[0] == '0' && (hex[1] == 'x' || hex[1] == 'X'))
		hex += 2;
	n = strlen(hex);
	if (n % 2 != 0)
		return ERR_MALFORMED;
	if (n / 2 > cap)
		return ERR_TOO_LARGE;
	for (i = 0; i < n / 2; i++) {
		hi = hex_nibble(hex[2 * i]);
		lo = hex_nibble(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return ERR_BAD_DIGIT;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*outlen = n / 2;
	return 0;
}

int
util_hex_decode(uint8_t *out, size_t outlen, const char *hex)
{
	size_t got;
	int r;

	if ((r = util_hex_decode_var(out, outlen, &got, hex)) != 0)
		return r;
	return got == outlen ? 0 : ERR_MALFORMED;
}

void
util_json_escape(char *out, size_t cap, const char *s)
{
	size_t o = 0;
	char tmp[8];
	const char *add;
	unsigned char c;

	if (cap == 0)
		return;
	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		switch (c) {
		case '"': add = "\\\""; break;
		case '\\': add = "\\\\"; break;
		case '\n': add = "\\n"; break;
		case '\r': add = "\\r"; break;
		case '\t': add = "\\t"; break;
		default:
			if (c < 0x20) {
				snprintf(tmp, sizeof(tmp), "\\u%04x", c);
				add = tmp;
			} else {
				tmp[0] = (char)c;
				tmp[1] = '\0';
				add = tmp;
			}
		}
		if (o + strlen(add) >= cap)
			break;
		memcpy(out + o, add, strlen(add));
		o += strlen(add);
	}
	out[o] = '\0';
}
