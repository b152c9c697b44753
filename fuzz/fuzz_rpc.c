/*
 * fuzz_rpc.c: the JSON-RPC reply parsers on any bytes (what the EVM node,
 * untrusted, sends orchestratord): the response envelope, receipts,
 * blocks, QUANTITY and DATA fields.  Accepted QUANTITYs must re-encode to
 * their own text (one form per number), outputs must be cleared on every
 * refusal, and no node text may reach a log unprintable.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/util.h"
#include "orchestratord/rpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_printable(const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s < 0x20 || *s > 0x7e)
			__builtin_trap();
	}
}

/* The minimal lowercase hex of v, as a node must write a QUANTITY. */
static void
quantity_text(char out[67], const u256 *v)
{
	uint8_t be[32];
	char hex[65];
	const char *p;
	size_t n;

	n = u256_to_be_min(be, v);
	if (n == 0) {
		strcpy(out, "0x0");
		return;
	}
	util_hex_encode(hex, be, n);
	for (p = hex; *p == '0'; p++)
		;
	out[0] = '0';
	out[1] = 'x';
	strcpy(out + 2, p);
}

static void
fuzz_quantity(const char *s)
{
	char text[67], low[200];
	uint64_t v64;
	uint8_t h[32];
	size_t i;
	u256 v;

	if (rpc_parse_quantity(&v, s) == 0) {
		/* Accepted: re-encodes to itself, up to the digits' case. */
		quantity_text(text, &v);
		for (i = 0; s[i] != '\0' && i + 1 < sizeof(low); i++)
			low[i] = s[i] >= 'A' && s[i] <= 'F' ?
			    (char)(s[i] - 'A' + 'a') : s[i];
		low[i] = '\0';
		if (strcmp(text, low) != 0)
			__builtin_trap();
		if (rpc_parse_quantity_u64(&v64, s) == 0 &&
		    (v.w[0] != v64 || v.w[1] || v.w[2] || v.w[3]))
			__builtin_trap();
	} else if (!u256_is_zero(&v)) {
		__builtin_trap();
	}
	if (rpc_parse_quantity_u64(&v64, s) != 0 && v64 != 0)
		__builtin_trap();
	if (rpc_parse_data_fixed(h, sizeof(h), s) != 0) {
		for (i = 0; i < sizeof(h); i++) {
			if (h[i] != 0)
				__builtin_trap();
		}
	} else if (strlen(s) != 66) {
		__builtin_trap();
	}
}

static void
fuzz_result(const json_t *res)
{
	struct rpc_receipt rc;
	uint8_t hash[32];
	uint64_t n;
	int found;
	u256 base;

	if (rpc_parse_receipt(&rc, res) != 0) {
		if (rc.found || rc.success || rc.block_number || rc.gas_used)
			__builtin_trap();
	} else if (!rc.found && (rc.success || rc.block_number)) {
		__builtin_trap();
	}
	if (rpc_parse_block(&n, hash, &base, &found, res) != 0 &&
	    (found || n != 0 || !u256_is_zero(&base)))
		__builtin_trap();
	if (rpc_parse_block(&n, hash, NULL, &found, res) != 0 && found)
		__builtin_trap();
	if (json_is_string(res))
		fuzz_quantity(json_string_value(res));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *res;
	char err[256], clean[64], *s;
	int r;

	r = rpc_parse_response(&res, err, sizeof(err), (const char *)data,
	    size);
	if (r == 0) {
		fuzz_result(res);
		json_decref(res);
	} else {
		if (res != NULL)
			__builtin_trap();
		check_printable(err);
	}
	r = rpc_parse_response_id(&res, err, sizeof(err), (const char *)data,
	    size, 1);
	json_decref(res);
	check_printable(err);
	/* As the reply to a batch of three. */
	{
		json_t *batch[3];
		size_t i;

		r = rpc_parse_batch(batch, 3, err, sizeof(err),
		    (const char *)data, size, 1);
		for (i = 0; i < 3; i++) {
			if (r != 0 && batch[i] != NULL)
				__builtin_trap();
			if (r == 0)
				fuzz_result(batch[i]);
			json_decref(batch[i]);
		}
		check_printable(err);
	}

	/* The same bytes as a field's text. */
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	fuzz_quantity(s);
	(void)rpc_known_error(s);
	rpc_sanitize(clean, sizeof(clean), s);
	check_printable(clean);
	free(s);
	return 0;
}
