/* signer.h: orchestratord's view of signerd: its policy, keys and calls. */
#ifndef ORCH_SIGNER_H
#define ORCH_SIGNER_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"
#include "evm/addr.h"
#include "policy/policy.h"
#include "proto/client.h"

/*
 * At start (and on reconnect) orchestratord asks signerd for its policy
 * (POLICY_REQ) and status (keys and their addresses) and parses the policy
 * with the same policy/ code signerd runs.  Those copies are advisory: they
 * let the API pre-check a payout and pick the sender; signerd decides.
 * Thread-safe: the prt_client is, and the policy is read-only once loaded.
 */
struct signer {
	struct prt_client *client;
	struct pol_policy *policy;	/* NULL until loaded */
	size_t nkeys;
	struct prt_key_info keys[PRT_KEYS_MAX];
};

/* Connects and loads policy and keys; ERR_IO if signerd is not there. */
int signer_open(struct signer **out, const char *url, int timeout_ms)
    WARN_UNUSED;
void signer_close(struct signer *s);

/* The address of the key that signs asset (by its policy "key" name). */
int signer_sender(const struct signer *s, const struct pol_asset *a,
    uint8_t addr[EVM_ADDR_LEN]) WARN_UNUSED;

#endif
