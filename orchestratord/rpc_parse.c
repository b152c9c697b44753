/* rpc_parse.c: the pure half of rpc.h: JSON-RPC replies, field by field. */
#include "orchestratord/rpc.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "common/util.h"

/* Node-supplied texts kept for logs and stored reasons are cut to this. */
#define MAX_FIELD_TEXT 200

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void
rpc_sanitize(char *out, size_t cap, const char *in)
{
	size_t i;

	if (cap == 0)
		return;
	for (i = 0; in != NULL && in[i] != '\0' && i + 1 < cap; i++)
		out[i] = in[i] >= 0x20 && in[i] < 0x7f ? in[i] : '?';
	out[i] = '\0';
}

/*
 * QUANTITY: "0x" then 1..maxdigits hex digits, no leading zero except
 * "0x0" itself.  Returns the digits (after "0x") and their count.
 */
static int
quantity_digits(const char **digits, size_t *n, const char *s,
    size_t maxdigits)
{
	size_t i;

	*digits = NULL;
	*n = 0;
	if (s == NULL || s[0] != '0' || s[1] != 'x')
		return ERR_MALFORMED;
	s += 2;
	for (i = 0; s[i] != '\0'; i++) {
		if (hex_value(s[i]) < 0)
			return ERR_BAD_DIGIT;
	}
	if (i == 0)
		return ERR_MALFORMED;
	if (i > 1 && s[0] == '0')
		return ERR_NONCANONICAL;
	if (i > maxdigits)
		return ERR_OVERFLOW;
	*digits = s;
	*n = i;
	return 0;
}

int
rpc_parse_quantity(u256 *out, const char *s)
{
	const char *d;
	size_t n, i;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = quantity_digits(&d, &n, s, 64)) != 0)
		return r;
	/* Digit i from the right lands in limb i / 16. */
	for (i = 0; i < n; i++) {
		out->w[i / 16] |= (uint64_t)hex_value(d[n - 1 - i]) <<
		    (4 * (i % 16));
	}
	return 0;
}

int
rpc_parse_quantity_u64(uint64_t *out, const char *s)
{
	const char *d;
	size_t n, i;
	int r;

	*out = 0;
	if ((r = quantity_digits(&d, &n, s, 16)) != 0)
		return r;
	for (i = 0; i < n; i++)
		*out = *out << 4 | (uint64_t)hex_value(d[i]);
	return 0;
}

int
rpc_parse_data_fixed(uint8_t *out, size_t n, const char *s)
{
	int r;

	memset(out, 0, n);
	/* DATA always carries its "0x" (util_hex_decode would take it bare). */
	if (s == NULL || s[0] != '0' || s[1] != 'x')
		return ERR_MALFORMED;
	if ((r = util_hex_decode(out, n, s)) != 0)
		memset(out, 0, n);
	/* Too long is a wrong size, as too short is. */
	return r == ERR_TOO_LARGE ? ERR_MALFORMED : r;
}

/* The "error" member: an object with an integer code and a string message. */
static int
error_text(char *err, size_t errlen, const json_t *e)
{
	const json_t *code = json_object_get(e, "code");
	const json_t *msg = json_object_get(e, "message");
	char clean[MAX_FIELD_TEXT];

	if (!json_is_object(e) || !json_is_integer(code) ||
	    !json_is_string(msg))
		return ERR_MALFORMED;
	rpc_sanitize(clean, sizeof(clean), json_string_value(msg));
	if (errlen > 0)
		snprintf(err, errlen, "%" JSON_INTEGER_FORMAT " %s",
		    json_integer_value(code), clean);
	return ERR_UNSUPPORTED;
}

/* The body as JSON, or NULL with err saying why. */
static json_t *
load(char *err, size_t errlen, const char *body, size_t len)
{
	char clean[JSON_ERROR_TEXT_LENGTH];
	json_error_t jerr;
	json_t *root;

	if (errlen > 0)
		err[0] = '\0';
	/* Duplicate keys could make two readers see two replies. */
	if ((root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL) {
		/* jansson quotes the bytes it choked on: they are the node's. */
		rpc_sanitize(clean, sizeof(clean), jerr.text);
		if (errlen > 0)
			snprintf(err, errlen, "not JSON: %s", clean);
	}
	return root;
}

/*
 * One reply object.  want_id < 0: any id; else a result must carry
 * exactly that number.  *id_out: the reply's id member (borrowed).
 */
static int
check_reply(json_t **result, const json_t **id_out, char *err, size_t errlen,
    const json_t *root, int64_t want_id)
{
	const json_t *ver, *id, *res, *e;
	int r = ERR_MALFORMED;

	*result = NULL;
	*id_out = NULL;
	if (!json_is_object(root)) {
		snprintf(err, errlen, "not a JSON object");
		goto out;
	}
	ver = json_object_get(root, "jsonrpc");
	id = *id_out = json_object_get(root, "id");
	res = json_object_get(root, "result");
	e = json_object_get(root, "error");
	if (!json_is_string(ver) || strcmp(json_string_value(ver), "2.0") != 0) {
		snprintf(err, errlen, "jsonrpc is not \"2.0\"");
		goto out;
	}
	if (id == NULL || (!json_is_integer(id) && !json_is_string(id) &&
	    !json_is_null(id))) {
		snprintf(err, errlen, "no usable id");
		goto out;
	}
	if ((res == NULL) == (e == NULL)) {
		snprintf(err, errlen, "needs exactly one of result and error");
		goto out;
	}
	if (e != NULL) {
		/* A node that could not read our id answers with null. */
		if (want_id >= 0 && !json_is_null(id) &&
		    (!json_is_integer(id) || json_integer_value(id) != want_id)) {
			snprintf(err, errlen, "error reply for another id");
			goto out;
		}
		if ((r = error_text(err, errlen, e)) == ERR_MALFORMED)
			snprintf(err, errlen, "error member malformed");
		goto out;
	}
	if (want_id >= 0 &&
	    (!json_is_integer(id) || json_integer_value(id) != want_id)) {
		snprintf(err, errlen, "reply for another id");
		goto out;
	}
	*result = json_incref((json_t *)res);
	r = 0;
out:
	return r;
}

static int
parse_response(json_t **result, char *err, size_t errlen, const char *body,
    size_t len, int64_t want_id)
{
	const json_t *id;
	json_t *root;
	int r;

	*result = NULL;
	if ((root = load(err, errlen, body, len)) == NULL)
		return ERR_MALFORMED;
	r = check_reply(result, &id, err, errlen, root, want_id);
	json_decref(root);
	return r;
}

int
rpc_parse_batch(json_t **results, size_t n, char *err, size_t errlen,
    const char *body, size_t len, uint64_t first_id)
{
	const json_t *id;
	json_t *root, *res;
	json_int_t k;
	size_t i;
	int r = ERR_MALFORMED;

	for (i = 0; i < n; i++)
		results[i] = NULL;
	if (n == 0 || first_id > INT64_MAX - n)
		return ERR_INVALID_ARG;
	if ((root = load(err, errlen, body, len)) == NULL)
		return ERR_MALFORMED;
	if (json_is_object(root)) {
		/* A node that takes no batches answers with one error. */
		r = check_reply(&res, &id, err, errlen, root, -1);
		json_decref(res);
		if (r == 0) {
			snprintf(err, errlen, "one reply to a batch");
			r = ERR_MALFORMED;
		}
		goto out;
	}
	if (!json_is_array(root) || json_array_size(root) != n) {
		snprintf(err, errlen, "not an array of %zu replies", n);
		goto out;
	}
	for (i = 0; i < n; i++) {
		if ((r = check_reply(&res, &id, err, errlen,
		    json_array_get(root, i), -1)) != 0)
			goto out;
		k = json_is_integer(id) ? json_integer_value(id) : -1;
		if (k < (json_int_t)first_id ||
		    (uint64_t)k - first_id >= n ||
		    results[(uint64_t)k - first_id] != NULL) {
			json_decref(res);
			snprintf(err, errlen, "reply for another id, or twice "
			    "for one");
			r = ERR_MALFORMED;
			goto out;
		}
		results[(uint64_t)k - first_id] = res;
	}
	r = 0;
out:
	if (r != 0) {
		for (i = 0; i < n; i++) {
			json_decref(results[i]);
			results[i] = NULL;
		}
	}
	json_decref(root);
	return r;
}

int
rpc_parse_response(json_t **result, char *err, size_t errlen,
    const char *body, size_t len)
{
	return parse_response(result, err, errlen, body, len, -1);
}

int
rpc_parse_response_id(json_t **result, char *err, size_t errlen,
    const char *body, size_t len, uint64_t id)
{
	if (id > INT64_MAX) {
		*result = NULL;
		return ERR_INVALID_ARG;
	}
	return parse_response(result, err, errlen, body, len, (int64_t)id);
}

/* A required string member parsed by a QUANTITY/DATA parser. */
static int
get_u64(uint64_t *out, const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	*out = 0;
	if (!json_is_string(v))
		return ERR_MALFORMED;
	return rpc_parse_quantity_u64(out, json_string_value(v));
}

static int
get_hash(uint8_t out[32], const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);

	if (!json_is_string(v)) {
		memset(out, 0, 32);
		return ERR_MALFORMED;
	}
	return rpc_parse_data_fixed(out, 32, json_string_value(v));
}

int
rpc_parse_receipt(struct rpc_receipt *out, const json_t *result)
{
	const json_t *bn;
	uint64_t status;
	int r;

	memset(out, 0, sizeof(*out));
	if (json_is_null(result))
		return 0;
	if (!json_is_object(result))
		return ERR_MALFORMED;
	bn = json_object_get(result, "blockNumber");
	if (json_is_null(bn))
		return 0;	/* known but not mined: no receipt yet */
	if ((r = get_u64(&out->block_number, result, "blockNumber")) != 0 ||
	    (r = get_hash(out->block_hash, result, "blockHash")) != 0 ||
	    (r = get_u64(&status, result, "status")) != 0 ||
	    (r = get_u64(&out->gas_used, result, "gasUsed")) != 0)
		goto fail;
	/* Pre-Byzantium roots instead of status are not a chain we serve. */
	if (status > 1) {
		r = ERR_MALFORMED;
		goto fail;
	}
	out->success = status == 1;
	out->found = 1;
	return 0;
fail:
	memset(out, 0, sizeof(*out));
	return r;
}

int
rpc_parse_block(uint64_t *number, uint8_t hash[32], u256 *base_fee,
    int *found, const json_t *result)
{
	const json_t *bf;
	int r;

	*number = 0;
	*found = 0;
	memset(hash, 0, 32);
	if (base_fee != NULL)
		memset(base_fee, 0, sizeof(*base_fee));
	if (json_is_null(result))
		return 0;
	if (!json_is_object(result))
		return ERR_MALFORMED;
	if ((r = get_u64(number, result, "number")) != 0 ||
	    (r = get_hash(hash, result, "hash")) != 0)
		goto fail;
	if (base_fee != NULL) {
		bf = json_object_get(result, "baseFeePerGas");
		if (!json_is_string(bf)) {
			r = ERR_MALFORMED;
			goto fail;
		}
		if ((r = rpc_parse_quantity(base_fee, json_string_value(bf))) !=
		    0)
			goto fail;
	}
	*found = 1;
	return 0;
fail:
	*number = 0;
	memset(hash, 0, 32);
	if (base_fee != NULL)
		memset(base_fee, 0, sizeof(*base_fee));
	return r;
}

int
rpc_known_error(const char *message)
{
	static const char *const known[] = {
		"already known",	/* geth */
		"known transaction",	/* older geth, parity */
		"already imported",	/* OpenEthereum */
		"alreadyknown",		/* Nethermind */
	};
	char low[MAX_FIELD_TEXT];
	const char *p;
	size_t i;

	if (message == NULL)
		return 0;
	for (i = 0; message[i] != '\0' && i + 1 < sizeof(low); i++)
		low[i] = message[i] >= 'A' && message[i] <= 'Z' ?
		    (char)(message[i] - 'A' + 'a') : message[i];
	low[i] = '\0';
	/* At a word start: "unknown transaction" is no "known transaction". */
	for (i = 0; i < ARRAY_LEN(known); i++) {
		for (p = low; (p = strstr(p, known[i])) != NULL; p++) {
			if (p == low || !(p[-1] >= 'a' && p[-1] <= 'z'))
				return 1;
		}
	}
	return 0;
}
