/* rpc.h: the EVM node's JSON-RPC over HTTP (libcurl), for the chain executor. */
#ifndef ORCH_RPC_H
#define ORCH_RPC_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/util.h"
#include "evm/addr.h"
#include "evm/u256.h"

/*
 * One client per thread (one curl easy handle, reused: keep-alive).  The
 * node is not trusted to be well-formed: every reply is size-limited
 * (RPC_MAX_REPLY), parsed with jansson and checked field by field.
 * Errors: ERR_IO (no connection, HTTP error, timeout: the node is down,
 * retry later), ERR_MALFORMED (a reply that does not parse or lacks a
 * field), ERR_TOO_LARGE (reply above RPC_MAX_REPLY), ERR_UNSUPPORTED (the
 * node answered with a JSON-RPC error object: its code and message are in
 * rpc_last_error()).
 */
#define RPC_MAX_REPLY (4 * 1024 * 1024)

struct rpc_client;

int rpc_open(struct rpc_client **out, const char *url, int timeout_ms)
    WARN_UNUSED;
void rpc_close(struct rpc_client *c);

/* "rpc eth_sendRawTransaction: -32000 nonce too low" etc.; per thread. */
const char *rpc_last_error(void);

/*
 * The JSON-RPC method of this thread's last failed call ("" if none), for
 * metrics_rpc_error(): one rpc_* function may make several calls.
 */
const char *rpc_last_method(void);

/*
 * Calls made by this process (HTTP round trips), by method: i in
 * 0..RPC_COUNTED-1 names a method (the last is "other"), for metrics.
 */
#define RPC_COUNTED 12
const char *rpc_counted_method(size_t i);
uint64_t rpc_call_count(size_t i);

int rpc_chain_id(struct rpc_client *c, uint64_t *out) WARN_UNUSED;

/* eth_getTransactionCount(addr, tag), tag "latest" or "pending". */
int rpc_nonce(struct rpc_client *c, const uint8_t addr[EVM_ADDR_LEN],
    const char *tag, uint64_t *out) WARN_UNUSED;

/* eth_estimateGas for a call from -> to with value and data, at "latest". */
int rpc_estimate_gas(struct rpc_client *c, const uint8_t from[EVM_ADDR_LEN],
    const uint8_t to[EVM_ADDR_LEN], const u256 *value, const uint8_t *data,
    size_t data_len, uint64_t *gas) WARN_UNUSED;

/*
 * Fee suggestion: the latest block's baseFeePerGas and
 * eth_maxPriorityFeePerGas (falling back to 1 gwei when the node lacks
 * the method).
 */
int rpc_fees(struct rpc_client *c, u256 *base_fee, u256 *priority_fee)
    WARN_UNUSED;

/*
 * eth_sendRawTransaction.  A node that already has this transaction
 * ("already known", or the same hash returned) is success.  Other node
 * refusals: ERR_UNSUPPORTED with the node's message in rpc_last_error()
 * (e.g. nonce too low, insufficient funds).  Nodes differ in how they say
 * "already have it" (anvil: "transaction already imported" while pooled,
 * "nonce too low" once mined), so after any refusal the node is asked
 * for the transaction by its hash (keccak-256 of raw): if it has it,
 * that is success too.  A reply naming another
 * hash is ERR_MALFORMED.
 */
int rpc_send_raw(struct rpc_client *c, const uint8_t *raw, size_t len)
    WARN_UNUSED;

/*
 * eth_getTransactionByHash: *known = 1 when the node has the transaction
 * (pooled or mined), 0 for a null result.
 */
int rpc_tx_known(struct rpc_client *c, const uint8_t hash[32], int *known)
    WARN_UNUSED;

struct rpc_receipt {
	int found;			/* 0: no receipt (pending or unknown) */
	int success;			/* status 0x1 */
	uint64_t block_number;
	uint8_t block_hash[32];
	uint64_t gas_used;
};

/* eth_getTransactionReceipt; found = 0 for a null result. */
int rpc_receipt(struct rpc_client *c, const uint8_t hash[32],
    struct rpc_receipt *out) WARN_UNUSED;

/*
 * eth_getBlockByNumber(tag or number, false): number and hash.
 * tag is "latest", "finalized" or "safe"; for a number pass tag NULL.
 * *found = 0 when the node has no such block.
 */
int rpc_block(struct rpc_client *c, const char *tag, uint64_t number,
    uint64_t *out_number, uint8_t out_hash[32], int *found) WARN_UNUSED;

/*
 * The receipts of n transactions (rpc_receipt's checks on each) and the
 * hashes of n blocks by number (rpc_block's), in JSON-RPC batches of at
 * most RPC_BATCH_MAX calls (one HTTP round trip each): what the tracker
 * asks once a round for every payout it follows.  Any call's error fails
 * the whole (the node's message as rpc_last_error says); outputs are
 * zeroed first.
 */
#define RPC_BATCH_MAX 128
int rpc_receipts(struct rpc_client *c, const uint8_t (*hashes)[32], size_t n,
    struct rpc_receipt *out) WARN_UNUSED;
int rpc_block_hashes(struct rpc_client *c, const uint64_t *numbers, size_t n,
    uint8_t (*hashes)[32], int *found) WARN_UNUSED;

/*
 * The revert reason of a mined, failed transaction if the node can say
 * (replaying it with eth_call at its block); "" otherwise.  Never fails.
 */
void rpc_revert_reason(struct rpc_client *c, const uint8_t hash[32],
    char *out, size_t cap);

/*
 * --- pure parsers (unit tests and fuzz/fuzz_rpc.c use them) ------------
 * In rpc_parse.c: jansson only, no libcurl, so the fuzz harness links
 * them alone.
 */

/*
 * Parses a JSON-RPC response body: returns 0 and *result (a new reference,
 * json_decref it) for {"jsonrpc":"2.0","id":..,"result":..};
 * ERR_UNSUPPORTED with the error text in err for an "error" member;
 * ERR_MALFORMED otherwise.
 */
int rpc_parse_response(json_t **result, char *err, size_t errlen,
    const char *body, size_t len) WARN_UNUSED;

/*
 * The same, and a result's "id" must be the number id (the client's
 * request counter).  An error reply may carry id null (the node could not
 * read the request's id).
 */
int rpc_parse_response_id(json_t **result, char *err, size_t errlen,
    const char *body, size_t len, uint64_t id) WARN_UNUSED;

/*
 * A JSON-RPC batch reply to n requests with ids first_id..first_id+n-1:
 * a JSON array of exactly n replies, each as rpc_parse_response_id checks
 * one, ids each used once, in any order.  results[i] (new references) is
 * the reply to first_id + i.  Any error reply, or a node that answers the
 * batch with one error object: ERR_UNSUPPORTED with its text in err.
 * ERR_MALFORMED otherwise.  On any error every results[i] is NULL.
 */
int rpc_parse_batch(json_t **results, size_t n, char *err, size_t errlen,
    const char *body, size_t len, uint64_t first_id) WARN_UNUSED;

/* "0x" + 1..64 hex digits, no leading zeros except "0x0" (QUANTITY). */
int rpc_parse_quantity(u256 *out, const char *s) WARN_UNUSED;
int rpc_parse_quantity_u64(uint64_t *out, const char *s) WARN_UNUSED;

/* "0x" + exactly 2*n hex digits (DATA of fixed size). */
int rpc_parse_data_fixed(uint8_t *out, size_t n, const char *s) WARN_UNUSED;

/*
 * A receipt object (or JSON null: found = 0; a receipt whose blockNumber
 * is null, as some nodes give for pooled transactions, is found = 0 too).
 * blockNumber, blockHash, status (0x0 or 0x1) and gasUsed are required.
 * *out is zeroed on any error.
 */
int rpc_parse_receipt(struct rpc_receipt *out, const json_t *result)
    WARN_UNUSED;

/*
 * A block object from eth_getBlockByNumber (JSON null: *found = 0): its
 * number and hash, and when base_fee is not NULL its baseFeePerGas
 * (required then: a node without it predates EIP-1559).  Outputs are
 * zeroed on any error.
 */
int rpc_parse_block(uint64_t *number, uint8_t hash[32], u256 *base_fee,
    int *found, const json_t *result) WARN_UNUSED;

/*
 * 1 when a node's eth_sendRawTransaction error message says it already
 * has the transaction (geth "already known", "known transaction",
 * OpenEthereum "already imported", Nethermind "AlreadyKnown"), else 0.
 */
int rpc_known_error(const char *message);

/*
 * Copies a node-supplied text into out (cap bytes, NUL-terminated),
 * truncated, with anything outside printable ASCII as '?': node messages
 * end up in logs and in the payout's stored reason.
 */
void rpc_sanitize(char *out, size_t cap, const char *in);

#endif
