/* rpc.c: the EVM node's JSON-RPC over HTTP POST (libcurl), one handle per thread. */
#include "orchestratord/rpc.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "common/err.h"
#include "common/util.h"
#include "evm/keccak.h"
#include "evm/tx.h"

/* eth_maxPriorityFeePerGas is not in every node: geth's old default. */
#define FALLBACK_PRIORITY_FEE 1000000000ull
#define REPLY_INITIAL 16384
#define QUANTITY_STR 67		/* "0x" + 64 hex + NUL */
#define HASH_STR 67
#define ADDR_HEX_STR 43

struct rpc_client {
	CURL *h;
	struct curl_slist *headers;
	char *buf;		/* the reply, NUL-terminated */
	size_t len, cap;
	int too_large;
	uint64_t next_id;
	char node_msg[256];	/* the node's message of its last error reply */
	char curl_err[CURL_ERROR_SIZE];
};

/*
 * HTTP round trips to the node by JSON-RPC method, process-wide, for
 * orchestratord_rpc_calls_total (a method not listed counts as "other").
 */
static const char *const counted_methods[RPC_COUNTED] = {
	"eth_chainId", "eth_getTransactionCount", "eth_estimateGas",
	"eth_getBlockByNumber", "eth_maxPriorityFeePerGas",
	"eth_sendRawTransaction", "eth_getTransactionByHash",
	"eth_getTransactionReceipt", "eth_call", "eth_getBlockReceipts",
	"batch", "other",
};
static _Atomic uint64_t call_counts[RPC_COUNTED];

static void
count_call(const char *method)
{
	size_t i;

	for (i = 0; i < RPC_COUNTED - 1; i++)
		if (strcmp(counted_methods[i], method) == 0)
			break;
	atomic_fetch_add_explicit(&call_counts[i], 1, memory_order_relaxed);
}

const char *
rpc_counted_method(size_t i)
{
	return i < RPC_COUNTED ? counted_methods[i] : NULL;
}

uint64_t
rpc_call_count(size_t i)
{
	return i < RPC_COUNTED ? atomic_load_explicit(&call_counts[i],
	    memory_order_relaxed) : 0;
}

static __thread char last_error[384];
static __thread char last_method[48];

const char *
rpc_last_error(void)
{
	return last_error;
}

const char *
rpc_last_method(void)
{
	return last_method;
}

static void set_error(const char *method, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
set_error(const char *method, const char *fmt, ...)
{
	char text[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	snprintf(last_method, sizeof(last_method), "%s", method);
	snprintf(last_error, sizeof(last_error), "rpc %s: %s", method, text);
}

/* Appends the reply, refusing to hold more than RPC_MAX_REPLY bytes. */
static size_t
on_data(char *p, size_t size, size_t nmemb, void *arg)
{
	struct rpc_client *c = arg;
	size_t n = size * nmemb, cap;
	char *b;

	if (n > RPC_MAX_REPLY - c->len) {
		c->too_large = 1;
		return 0;	/* curl aborts the transfer */
	}
	if (c->len + n + 1 > c->cap) {
		cap = c->cap * 2 > c->len + n + 1 ? c->cap * 2 : c->len + n + 1;
		if (cap > RPC_MAX_REPLY + 1)
			cap = RPC_MAX_REPLY + 1;
		if ((b = realloc(c->buf, cap)) == NULL)
			return 0;
		c->buf = b;
		c->cap = cap;
	}
	memcpy(c->buf + c->len, p, n);
	c->len += n;
	c->buf[c->len] = '\0';
	return n;
}

int
rpc_open(struct rpc_client **out, const char *url, int timeout_ms)
{
	struct rpc_client *c;
	struct curl_slist *h;
	int r = ERR_NOMEM;

	*out = NULL;
	if (url == NULL || timeout_ms <= 0 ||
	    (strncmp(url, "http://", 7) != 0 &&
	    strncmp(url, "https://", 8) != 0))
		return ERR_INVALID_ARG;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return ERR_NOMEM;
	if ((c->buf = malloc(REPLY_INITIAL)) == NULL ||
	    (c->h = curl_easy_init()) == NULL)
		goto out;
	c->cap = REPLY_INITIAL;
	c->buf[0] = '\0';
	/* "Expect:" off: no 100-continue round trip for larger bodies. */
	if ((h = curl_slist_append(NULL, "Content-Type: application/json")) ==
	    NULL)
		goto out;
	c->headers = h;
	if ((h = curl_slist_append(c->headers, "Accept: application/json")) ==
	    NULL || (h = curl_slist_append(c->headers, "Expect:")) == NULL)
		goto out;
	r = ERR_INVALID_ARG;
	/*
	 * NOSIGNAL: we are one of many threads and must not get SIGALRM.
	 * PROXY "": a proxy from the environment never sees payouts.  Only
	 * http(s), no redirects (the default), no compression (a small reply
	 * must not inflate past the cap inside curl).
	 */
	if (curl_easy_setopt(c->h, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(c->h, CURLOPT_PROTOCOLS_STR, "http,https") !=
	    CURLE_OK ||
	    curl_easy_setopt(c->h, CURLOPT_PROXY, "") != CURLE_OK ||
	    curl_easy_setopt(c->h, CURLOPT_TIMEOUT_MS, (long)timeout_ms) !=
	    CURLE_OK ||
	    curl_easy_setopt(c->h, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)timeout_ms) != CURLE_OK ||
	    curl_easy_setopt(c->h, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)RPC_MAX_REPLY) != CURLE_OK ||
	    curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, c->headers) !=
	    CURLE_OK ||
	    curl_easy_setopt(c->h, CURLOPT_USERAGENT, "orchestratord") !=
	    CURLE_OK ||
	    curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, on_data) !=
	    CURLE_OK ||
	    curl_easy_setopt(c->h, CURLOPT_WRITEDATA, c) != CURLE_OK ||
	    curl_easy_setopt(c->h, CURLOPT_ERRORBUFFER, c->curl_err) !=
	    CURLE_OK ||
	    curl_easy_setopt(c->h, CURLOPT_POST, 1L) != CURLE_OK)
		goto out;
	*out = c;
	c = NULL;
	r = 0;
out:
	rpc_close(c);
	return r;
}

void
rpc_close(struct rpc_client *c)
{
	if (c == NULL)
		return;
	if (c->h != NULL)
		curl_easy_cleanup(c->h);
	curl_slist_free_all(c->headers);
	free(c->buf);
	free(c);
}

/*
 * POSTs body (one request or a batch) and leaves the reply in c->buf and
 * c->len, its HTTP status in *status.  method names the call for errors
 * and counts.  Returns 0 (whatever the status: some nodes send JSON-RPC
 * errors with an HTTP error status), or ERR_IO, ERR_NOMEM, ERR_TOO_LARGE,
 * ERR_INTERNAL with the thread's error set.
 */
static int
post(struct rpc_client *c, const char *method, const char *body,
    long *status)
{
	CURLcode cc;

	*status = 0;
	c->len = 0;
	c->buf[0] = '\0';
	c->too_large = 0;
	c->curl_err[0] = '\0';
	if (curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, body) != CURLE_OK ||
	    curl_easy_setopt(c->h, CURLOPT_POSTFIELDSIZE, (long)strlen(body)) !=
	    CURLE_OK) {
		set_error(method, "%s", err_str(ERR_INTERNAL));
		return ERR_INTERNAL;
	}
	count_call(method);
	cc = curl_easy_perform(c->h);
	if (c->too_large || cc == CURLE_FILESIZE_EXCEEDED) {
		set_error(method, "reply above %d bytes", RPC_MAX_REPLY);
		return ERR_TOO_LARGE;
	}
	if (cc != CURLE_OK) {
		set_error(method, "%s", c->curl_err[0] != '\0' ? c->curl_err :
		    curl_easy_strerror(cc));
		return cc == CURLE_OUT_OF_MEMORY ? ERR_NOMEM : ERR_IO;
	}
	if (curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, status) !=
	    CURLE_OK)
		*status = 0;
	return 0;
}

/*
 * A parsed reply r (rpc_parse_response_id's or rpc_parse_batch's) with
 * err, under HTTP status: keeps the node's message of an error reply
 * (c->node_msg) and sets the thread's error.  Returns r, or ERR_IO for an
 * HTTP error status that carried no JSON-RPC error.
 */
static int
settle(struct rpc_client *c, const char *method, int r, const char *err,
    long status)
{
	const char *sp;

	if (status != 200 && r != ERR_UNSUPPORTED) {
		set_error(method, "HTTP %ld", status);
		return ERR_IO;
	}
	if (r == ERR_UNSUPPORTED) {
		/* err is "<code> <message>": keep the message alone too. */
		sp = strchr(err, ' ');
		snprintf(c->node_msg, sizeof(c->node_msg), "%s",
		    sp != NULL ? sp + 1 : err);
		set_error(method, "%s", err);
	} else if (r != 0) {
		set_error(method, "malformed reply: %s", err);
	}
	return r;
}

/* The request object of one call; params is consumed, also on failure. */
static json_t *
request_of(const char *method, json_t *params, uint64_t id)
{
	if (params == NULL)
		return NULL;
	/* "o" steals params, also when json_pack fails. */
	return json_pack("{s:s, s:I, s:s, s:o}", "jsonrpc", "2.0", "id",
	    (json_int_t)id, "method", method, "params", params);
}

/*
 * One call: params (a new reference, always consumed) as the request's
 * params; *result is a new reference on success.  Sets the thread's last
 * error and method on failure.
 */
static int
call(struct rpc_client *c, const char *method, json_t *params,
    json_t **result)
{
	json_t *req;
	char *body = NULL, err[256];
	long status;
	uint64_t id;
	int r;

	*result = NULL;
	c->node_msg[0] = '\0';
	id = ++c->next_id;
	if ((req = request_of(method, params, id)) == NULL ||
	    (body = json_dumps(req, JSON_COMPACT)) == NULL) {
		set_error(method, "%s", err_str(ERR_NOMEM));
		r = ERR_NOMEM;
		goto out;
	}
	if ((r = post(c, method, body, &status)) != 0)
		goto out;
	r = rpc_parse_response_id(result, err, sizeof(err), c->buf, c->len, id);
	if ((r = settle(c, method, r, err, status)) != 0) {
		json_decref(*result);
		*result = NULL;
	}
out:
	free(body);
	json_decref(req);
	return r;
}

/*
 * n calls of one method in one JSON-RPC batch (one HTTP round trip):
 * params[0..n) (new references, all consumed) and results[0..n) in the
 * same order (new references on success; all NULL on failure).  Any
 * element's error fails the batch (ERR_UNSUPPORTED, the node's message as
 * call's), as does a node that answers batches with one error.
 */
static int
call_batch(struct rpc_client *c, const char *method, json_t **params,
    size_t n, json_t **results)
{
	json_t *req, *one;
	char *body = NULL, err[256];
	uint64_t first = c->next_id + 1;
	long status;
	size_t i;
	int r = ERR_NOMEM;

	c->node_msg[0] = '\0';
	memset(results, 0, n * sizeof(*results));
	req = json_array();
	for (i = 0; i < n; i++) {
		one = request_of(method, params[i], ++c->next_id);
		params[i] = NULL;
		if (req != NULL && json_array_append_new(req, one) != 0) {
			json_decref(req);
			req = NULL;
		}
	}
	if (req == NULL || (body = json_dumps(req, JSON_COMPACT)) == NULL) {
		set_error(method, "%s", err_str(ERR_NOMEM));
		goto out;
	}
	if ((r = post(c, "batch", body, &status)) != 0)
		goto out;
	r = rpc_parse_batch(results, n, err, sizeof(err), c->buf, c->len,
	    first);
	r = settle(c, method, r, err, status);
	if (r != 0) {
		for (i = 0; i < n; i++) {
			json_decref(results[i]);
			results[i] = NULL;
		}
	}
out:
	free(body);
	json_decref(req);
	return r;
}

/* A result that must be a string, handed to parse. */
static int
string_result(const char *method, const json_t *res, const char **s)
{
	*s = json_string_value(res);
	if (*s == NULL) {
		set_error(method, "malformed reply: result is not a string");
		return ERR_MALFORMED;
	}
	return 0;
}

static void
quantity_hex(char out[QUANTITY_STR], const u256 *v)
{
	uint8_t be[32];
	char hex[65];
	size_t n;
	const char *p;

	n = u256_to_be_min(be, v);
	if (n == 0) {
		snprintf(out, QUANTITY_STR, "0x0");
		return;
	}
	util_hex_encode(hex, be, n);
	for (p = hex; *p == '0' && p[1] != '\0'; p++)
		;
	snprintf(out, QUANTITY_STR, "0x%s", p);
}

static void
addr_hex(char out[ADDR_HEX_STR], const uint8_t addr[EVM_ADDR_LEN])
{
	util_hex_encode_0x(out, addr, EVM_ADDR_LEN);
}

static void
hash_hex(char out[HASH_STR], const uint8_t hash[32])
{
	util_hex_encode_0x(out, hash, 32);
}

/* "0x" + hex of n bytes, malloc'd. */
static char *
data_hex(const uint8_t *p, size_t n)
{
	char *s;

	if ((s = malloc(2 * n + 3)) == NULL)
		return NULL;
	util_hex_encode_0x(s, p, n);
	return s;
}

/* A call whose result is a QUANTITY that fits 64 bits. */
static int
call_u64(struct rpc_client *c, const char *method, json_t *params,
    uint64_t *out)
{
	json_t *res;
	const char *s;
	int r;

	*out = 0;
	if ((r = call(c, method, params, &res)) != 0)
		return r;
	if ((r = string_result(method, res, &s)) == 0 &&
	    (r = rpc_parse_quantity_u64(out, s)) != 0)
		set_error(method, "malformed reply: result %.80s: %s", s,
		    err_str(r));
	json_decref(res);
	return r == 0 ? 0 : ERR_MALFORMED;
}

int
rpc_chain_id(struct rpc_client *c, uint64_t *out)
{
	int r;

	if ((r = call_u64(c, "eth_chainId", json_array(), out)) != 0)
		return r;
	if (*out == 0) {
		set_error("eth_chainId", "malformed reply: chain id 0");
		return ERR_MALFORMED;
	}
	return 0;
}

int
rpc_nonce(struct rpc_client *c, const uint8_t addr[EVM_ADDR_LEN],
    const char *tag, uint64_t *out)
{
	char a[ADDR_HEX_STR];

	*out = 0;
	if (tag == NULL || (strcmp(tag, "latest") != 0 &&
	    strcmp(tag, "pending") != 0))
		return ERR_INVALID_ARG;
	addr_hex(a, addr);
	return call_u64(c, "eth_getTransactionCount",
	    json_pack("[s, s]", a, tag), out);
}

int
rpc_estimate_gas(struct rpc_client *c, const uint8_t from[EVM_ADDR_LEN],
    const uint8_t to[EVM_ADDR_LEN], const u256 *value, const uint8_t *data,
    size_t data_len, uint64_t *gas)
{
	char f[ADDR_HEX_STR], t[ADDR_HEX_STR], v[QUANTITY_STR], *d;
	json_t *params;
	int r;

	*gas = 0;
	if (data_len > EVM_TX_MAX_DATA)
		return ERR_INVALID_ARG;
	if ((d = data_hex(data, data_len)) == NULL)
		return ERR_NOMEM;
	addr_hex(f, from);
	addr_hex(t, to);
	quantity_hex(v, value);
	/*
	 * Against the latest block, as the fees are: a payout is judged on
	 * the chain as mined (D30), not on a pool that may hold this
	 * sender's earlier payouts.  Without a tag nodes differ (anvil
	 * estimates on pending state).
	 */
	params = json_pack("[{s:s, s:s, s:s, s:s}, s]", "from", f, "to", t,
	    "value", v, "data", d, "latest");
	free(d);
	if ((r = call_u64(c, "eth_estimateGas", params, gas)) != 0)
		return r;
	return 0;
}

static json_t *block_params(const char *tag, uint64_t number);
static int block_of(const json_t *res, const char *tag, uint64_t number,
    uint64_t *out_number, uint8_t out_hash[32], int *found);

int
rpc_block(struct rpc_client *c, const char *tag, uint64_t number,
    uint64_t *out_number, uint8_t out_hash[32], int *found)
{
	json_t *res;
	int r;

	*out_number = 0;
	*found = 0;
	memset(out_hash, 0, 32);
	if (tag != NULL && strcmp(tag, "latest") != 0 &&
	    strcmp(tag, "finalized") != 0 && strcmp(tag, "safe") != 0)
		return ERR_INVALID_ARG;
	if ((r = call(c, "eth_getBlockByNumber", block_params(tag, number),
	    &res)) != 0)
		return r;
	r = block_of(res, tag, number, out_number, out_hash, found);
	json_decref(res);
	return r;
}

/* eth_getBlockByNumber's params: [tag or number, false]. */
static json_t *
block_params(const char *tag, uint64_t number)
{
	char num[QUANTITY_STR];
	u256 n;

	u256_from_u64(&n, number);
	quantity_hex(num, &n);
	return json_pack("[s, b]", tag != NULL ? tag : num, 0);
}

/* Checks a block result as rpc_block describes; outputs zeroed on error. */
static int
block_of(const json_t *res, const char *tag, uint64_t number,
    uint64_t *out_number, uint8_t out_hash[32], int *found)
{
	int r;

	r = rpc_parse_block(out_number, out_hash, NULL, found, res);
	if (r != 0) {
		set_error("eth_getBlockByNumber", "malformed block: %s",
		    err_str(r));
		return ERR_MALFORMED;
	}
	/* Asked for a number, the node must answer with that block. */
	if (*found && tag == NULL && *out_number != number) {
		set_error("eth_getBlockByNumber", "asked for block %" PRIu64
		    ", got %" PRIu64, number, *out_number);
		*found = 0;
		*out_number = 0;
		memset(out_hash, 0, 32);
		return ERR_MALFORMED;
	}
	return 0;
}

int
rpc_fees(struct rpc_client *c, u256 *base_fee, u256 *priority_fee)
{
	uint8_t hash[32];
	uint64_t number;
	json_t *res;
	const char *s;
	int found, r;

	memset(base_fee, 0, sizeof(*base_fee));
	memset(priority_fee, 0, sizeof(*priority_fee));
	if ((r = call(c, "eth_getBlockByNumber", json_pack("[s, b]", "latest",
	    0), &res)) != 0)
		return r;
	r = rpc_parse_block(&number, hash, base_fee, &found, res);
	json_decref(res);
	if (r != 0 || !found) {
		set_error("eth_getBlockByNumber", "latest block %s",
		    r != 0 ? "lacks a well-formed baseFeePerGas" : "missing");
		return ERR_MALFORMED;
	}
	r = call(c, "eth_maxPriorityFeePerGas", json_array(), &res);
	if (r == ERR_UNSUPPORTED) {
		u256_from_u64(priority_fee, FALLBACK_PRIORITY_FEE);
		return 0;
	}
	if (r != 0)
		return r;
	if ((r = string_result("eth_maxPriorityFeePerGas", res, &s)) == 0 &&
	    (r = rpc_parse_quantity(priority_fee, s)) != 0) {
		set_error("eth_maxPriorityFeePerGas", "malformed reply: %s",
		    err_str(r));
		r = ERR_MALFORMED;
	}
	json_decref(res);
	return r;
}

int
rpc_tx_known(struct rpc_client *c, const uint8_t hash[32], int *known)
{
	char h[HASH_STR];
	uint8_t got[32];
	const json_t *v;
	json_t *res;
	int r;

	*known = 0;
	hash_hex(h, hash);
	if ((r = call(c, "eth_getTransactionByHash", json_pack("[s]", h),
	    &res)) != 0)
		return r;
	if (json_is_null(res)) {
		r = 0;
		goto out;
	}
	v = json_object_get(res, "hash");
	if (!json_is_object(res) || !json_is_string(v) ||
	    rpc_parse_data_fixed(got, 32, json_string_value(v)) != 0 ||
	    memcmp(got, hash, 32) != 0) {
		set_error("eth_getTransactionByHash", "malformed reply: not "
		    "the transaction asked for");
		r = ERR_MALFORMED;
		goto out;
	}
	*known = 1;
	r = 0;
out:
	json_decref(res);
	return r;
}

int
rpc_send_raw(struct rpc_client *c, const uint8_t *raw, size_t len)
{
	char saved_error[sizeof(last_error)], saved_msg[sizeof(c->node_msg)];
	uint8_t hash[32], got[32];
	json_t *res;
	const char *s;
	char *hex;
	int known, r;

	if (len == 0 || len > EVM_TX_MAX_ENCODED)
		return ERR_INVALID_ARG;
	evm_keccak256(hash, raw, len);
	if ((hex = data_hex(raw, len)) == NULL)
		return ERR_NOMEM;
	r = call(c, "eth_sendRawTransaction", json_pack("[s]", hex), &res);
	free(hex);
	if (r == 0) {
		if ((r = string_result("eth_sendRawTransaction", res, &s)) ==
		    0 && (rpc_parse_data_fixed(got, 32, s) != 0 ||
		    memcmp(got, hash, 32) != 0)) {
			set_error("eth_sendRawTransaction", "the node names "
			    "another hash: %.80s", s);
			r = ERR_MALFORMED;
		}
		json_decref(res);
		return r;
	}
	if (r != ERR_UNSUPPORTED)
		return r;
	if (rpc_known_error(c->node_msg))
		return 0;
	/* "underpriced", "nonce too low": maybe because it has this one. */
	snprintf(saved_error, sizeof(saved_error), "%s", last_error);
	snprintf(saved_msg, sizeof(saved_msg), "%s", c->node_msg);
	if (rpc_tx_known(c, hash, &known) == 0 && known)
		return 0;
	snprintf(last_error, sizeof(last_error), "%s", saved_error);
	snprintf(last_method, sizeof(last_method), "eth_sendRawTransaction");
	snprintf(c->node_msg, sizeof(c->node_msg), "%s", saved_msg);
	return ERR_UNSUPPORTED;
}

static int receipt_of(struct rpc_receipt *out, const json_t *res,
    const uint8_t hash[32]);

int
rpc_receipt(struct rpc_client *c, const uint8_t hash[32],
    struct rpc_receipt *out)
{
	char h[HASH_STR];
	json_t *res;
	int r;

	memset(out, 0, sizeof(*out));
	hash_hex(h, hash);
	if ((r = call(c, "eth_getTransactionReceipt", json_pack("[s]", h),
	    &res)) != 0)
		return r;
	r = receipt_of(out, res, hash);
	json_decref(res);
	return r;
}

/* Checks a receipt result of hash; *out zeroed on error. */
static int
receipt_of(struct rpc_receipt *out, const json_t *res, const uint8_t hash[32])
{
	uint8_t got[32];
	const json_t *v;
	int r;

	if ((r = rpc_parse_receipt(out, res)) != 0) {
		set_error("eth_getTransactionReceipt", "malformed receipt: %s",
		    err_str(r));
		return ERR_MALFORMED;
	}
	/* A receipt of another transaction is no receipt of ours. */
	v = json_object_get(res, "transactionHash");
	if (out->found && (!json_is_string(v) ||
	    rpc_parse_data_fixed(got, 32, json_string_value(v)) != 0 ||
	    memcmp(got, hash, 32) != 0)) {
		memset(out, 0, sizeof(*out));
		set_error("eth_getTransactionReceipt", "malformed receipt: "
		    "transactionHash is not the one asked for");
		return ERR_MALFORMED;
	}
	return 0;
}

int
rpc_receipts(struct rpc_client *c, const uint8_t (*hashes)[32], size_t n,
    struct rpc_receipt *out)
{
	json_t *params[RPC_BATCH_MAX], *res[RPC_BATCH_MAX];
	struct rpc_receipt *all = out;
	size_t i, m, total = n;
	char h[HASH_STR];
	int r = 0;

	memset(out, 0, n * sizeof(*out));
	for (; n > 0 && r == 0; hashes += m, out += m, n -= m) {
		m = n < RPC_BATCH_MAX ? n : RPC_BATCH_MAX;
		if (m == 1) {
			r = rpc_receipt(c, hashes[0], &out[0]);
			continue;
		}
		for (i = 0; i < m; i++) {
			hash_hex(h, hashes[i]);
			params[i] = json_pack("[s]", h);
		}
		if ((r = call_batch(c, "eth_getTransactionReceipt", params, m,
		    res)) != 0)
			break;
		for (i = 0; i < m && r == 0; i++)
			r = receipt_of(&out[i], res[i], hashes[i]);
		for (i = 0; i < m; i++)
			json_decref(res[i]);
	}
	if (r != 0)
		memset(all, 0, total * sizeof(*all));
	return r;
}

int
rpc_block_hashes(struct rpc_client *c, const uint64_t *numbers, size_t n,
    uint8_t (*hashes)[32], int *found)
{
	json_t *params[RPC_BATCH_MAX], *res[RPC_BATCH_MAX];
	uint8_t (*all_hashes)[32] = hashes;
	int *all_found = found;
	size_t i, m, total = n;
	uint64_t got;
	int r = 0;

	memset(hashes, 0, n * 32);
	memset(found, 0, n * sizeof(*found));
	for (; n > 0 && r == 0; numbers += m, hashes += m, found += m,
	    n -= m) {
		m = n < RPC_BATCH_MAX ? n : RPC_BATCH_MAX;
		if (m == 1) {
			r = rpc_block(c, NULL, numbers[0], &got, hashes[0],
			    &found[0]);
			continue;
		}
		for (i = 0; i < m; i++)
			params[i] = block_params(NULL, numbers[i]);
		if ((r = call_batch(c, "eth_getBlockByNumber", params, m,
		    res)) != 0)
			break;
		for (i = 0; i < m && r == 0; i++)
			r = block_of(res[i], NULL, numbers[i], &got, hashes[i],
			    &found[i]);
		for (i = 0; i < m; i++)
			json_decref(res[i]);
	}
	if (r != 0) {
		memset(all_hashes, 0, total * 32);
		memset(all_found, 0, total * sizeof(*all_found));
	}
	return r;
}

void
rpc_revert_reason(struct rpc_client *c, const uint8_t hash[32], char *out,
    size_t cap)
{
	static const char *const fields[] = { "from", "to", "value", "gas" };
	json_t *tx = NULL, *callobj = NULL, *res = NULL;
	const json_t *v;
	char h[HASH_STR], at[QUANTITY_STR];
	uint64_t block;
	u256 parent;
	size_t i;

	if (cap == 0)
		return;
	out[0] = '\0';
	hash_hex(h, hash);
	if (call(c, "eth_getTransactionByHash", json_pack("[s]", h), &tx) !=
	    0 || !json_is_object(tx))
		goto out;
	v = json_object_get(tx, "blockNumber");
	if (!json_is_string(v) ||
	    rpc_parse_quantity_u64(&block, json_string_value(v)) != 0)
		goto out;
	if ((callobj = json_object()) == NULL)
		goto out;
	for (i = 0; i < ARRAY_LEN(fields); i++) {
		v = json_object_get(tx, fields[i]);
		if (json_is_string(v) &&
		    json_object_set(callobj, fields[i], (json_t *)v) != 0)
			goto out;
	}
	v = json_object_get(tx, "input");
	if (json_is_string(v) &&
	    json_object_set(callobj, "data", (json_t *)v) != 0)
		goto out;
	/* Replayed on the state it started from (the parent block's). */
	u256_from_u64(&parent, block > 0 ? block - 1 : 0);
	quantity_hex(at, &parent);
	if (call(c, "eth_call", json_pack("[O, s]", callobj, at), &res) ==
	    ERR_UNSUPPORTED)
		rpc_sanitize(out, cap, c->node_msg);
out:
	json_decref(tx);
	json_decref(callobj);
	json_decref(res);
}
