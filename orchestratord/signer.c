/* signer.c: loads signerd's policy and keys once, for advisory pre-checks. */
#include "orchestratord/signer.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"

int
signer_open(struct signer **out, const char *url, int timeout_ms)
{
	struct prt_status_rep *st = NULL;
	struct prt_reply_hdr hdr;
	struct signer *s;
	char *json = NULL, why[256];
	size_t json_len = 0;
	int r;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return ERR_NOMEM;
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	if ((r = prt_client_open(&s->client, url, timeout_ms)) != 0) {
		log_warn("signerd at %s: %s", url, prt_client_last_error());
		goto out;
	}
	if ((r = prt_client_policy(s->client, &json, &json_len, &hdr)) != 0 ||
	    (r = hdr.result) != 0) {
		log_warn("signerd policy: %s", r < 0 ? err_str(r) : hdr.message);
		r = ERR_IO;
		goto out;
	}
	/* The same parser signerd runs: a policy we cannot read is fatal. */
	if ((r = pol_parse(&s->policy, (const uint8_t *)json, json_len, why,
	    sizeof(why))) != 0) {
		log_error("signerd's policy does not parse here: %s", why);
		goto out;
	}
	if ((r = prt_client_status(s->client, st, &hdr)) != 0 ||
	    (r = hdr.result) != 0) {
		log_warn("signerd status: %s", r < 0 ? err_str(r) : hdr.message);
		r = ERR_IO;
		goto out;
	}
	s->nkeys = st->nkeys;
	memcpy(s->keys, st->keys, sizeof(s->keys[0]) * st->nkeys);
	log_info("signerd: policy %s, %zu key(s), %s", pol_policy_id(s->policy),
	    s->nkeys, st->paused ? "paused" : "not paused");
	*out = s;
	s = NULL;
	r = 0;
out:
	free(json);
	free(st);
	signer_close(s);
	return r;
}

void
signer_close(struct signer *s)
{
	if (s == NULL)
		return;
	prt_client_close(s->client);
	pol_free(s->policy);
	free(s);
}

int
signer_sender(const struct signer *s, const struct pol_asset *a,
    uint8_t addr[EVM_ADDR_LEN])
{
	size_t i;

	for (i = 0; i < s->nkeys; i++) {
		if (strcmp(s->keys[i].name, a->key) == 0) {
			memcpy(addr, s->keys[i].address, EVM_ADDR_LEN);
			return 0;
		}
	}
	memset(addr, 0, EVM_ADDR_LEN);
	return ERR_NOT_FOUND;
}
