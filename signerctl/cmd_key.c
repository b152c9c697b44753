/* cmd_key.c: signerctl key generate, key list and key show. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "signerctl/ctl.h"

/* Opens the token the URI names and logs in; prints the failure itself. */
int
ctl_key_generate(const struct ctl_cmd *c, const struct ctl_opts *o)
{
	enum hsm_key_type type = HSM_KEY_SECP256K1;
	struct hsm *h = NULL;
	struct hsm_key k;
	int r;

	if (o->type == NULL || strcmp(o->type, "secp256k1") == 0)
		type = HSM_KEY_SECP256K1;
	else if (strcmp(o->type, "p256") == 0)
		type = HSM_KEY_P256;
	else
		return ctl_usage(c, "--type is secp256k1 or p256");
	if ((r = ctl_open_token(&h, o, o->token)) != CTL_EXIT_OK)
		goto out;
	if ((r = hsm_key_generate(h, &k, o->label, type)) != 0) {
		r = ctl_fail("generating the key", r);
		goto out;
	}
	if (o->json) {
		r = ctl_json_emit(ctl_key_json(h, &k));
		goto out;
	}
	printf("generated ");
	ctl_key_print(h, &k);
	r = CTL_EXIT_OK;
out:
	hsm_close(h);
	return r;
}

int
ctl_key_list(const struct ctl_cmd *c, const struct ctl_opts *o)
{
	struct hsm *h = NULL;
	struct hsm_key *keys = NULL;
	json_t *arr = NULL;
	size_t n = 0, i;
	int r;

	if ((r = ctl_open_token(&h, o, o->token)) != CTL_EXIT_OK)
		goto out;
	if ((r = hsm_key_list(h, &keys, &n)) != 0) {
		r = ctl_fail("listing keys", r);
		goto out;
	}
	if (o->json) {
		if ((arr = json_array()) == NULL) {
			r = ctl_json_emit(NULL);
			goto out;
		}
		for (i = 0; i < n; i++) {
			if (json_array_append_new(arr, ctl_key_json(h,
			    &keys[i])) != 0) {
				r = ctl_json_emit(NULL);
				goto out;
			}
		}
		r = ctl_json_emit(json_pack("{s:O}", "keys", arr));
		goto out;
	}
	if (n == 0)
		printf("no keys on the token\n");
	for (i = 0; i < n; i++) {
		if (i > 0)
			printf("\n");
		ctl_key_print(h, &keys[i]);
	}
	r = CTL_EXIT_OK;
out:
	json_decref(arr);
	free(keys);
	hsm_close(h);
	return r;
}

int
ctl_key_show(const struct ctl_cmd *c, const struct ctl_opts *o)
{
	struct hsm *h = NULL;
	struct hsm_key k;
	int r, found;

	if ((r = ctl_open_token(&h, o, o->uri)) != CTL_EXIT_OK)
		goto out;
	found = hsm_key_find(h, &k, o->uri);
	/* A weak key is still shown, so the reviewer sees what is wrong. */
	if (found != 0 && found != ERR_HSM_KEY_WEAK) {
		r = ctl_fail("finding the key", found);
		goto out;
	}
	if (o->json) {
		r = ctl_json_emit(ctl_key_json(h, &k));
	} else {
		ctl_key_print(h, &k);
		r = CTL_EXIT_OK;
	}
	/* After the key, on stderr: the failure to act on (last error kept). */
	if (found == ERR_HSM_KEY_WEAK)
		r = ctl_fail("the key must not be used for signing", found);
out:
	hsm_close(h);
	return r;
}
