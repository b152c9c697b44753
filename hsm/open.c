/* open.c: choose exactly one token by URI, open its session pool, and close it all again. */
#include <stdlib.h>

#include "common/err.h"
#include "hsm/internal.h"

int
hsm_open(struct hsm **out, const char *module_path, const char *token_uri,
    size_t nsessions)
{
	struct hsm *h = NULL;
	P11KitUri *uri = NULL;
	CK_SLOT_ID *slots = NULL;
	CK_TOKEN_INFO ti;
	CK_ULONG nslots = 0, i;
	size_t found = 0;
	int m, r;

	*out = NULL;
	hsm_error_clear();
	if (token_uri == NULL || nsessions == 0 ||
	    nsessions > HSM_SESSIONS_MAX) {
		r = ERR_INVALID_ARG;
		goto out;
	}
	if ((r = hsm_uri_parse(&uri, token_uri)) != 0)
		goto out;
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	if ((r = hsm_module_get(&h->mod, module_path)) != 0)
		goto out;
	h->f = h->mod->f;
	if ((m = hsm_uri_match_module(uri, h->f)) <= 0) {
		r = m < 0 ? m : ERR_HSM_NO_TOKEN;
		if (m == 0)
			hsm_error_set("the URI's library attributes do not "
			    "match the module");
		goto out;
	}
	if ((r = hsm_slot_list(h->f, &slots, &nslots)) != 0)
		goto out;
	for (i = 0; i < nslots; i++) {
		if ((m = hsm_uri_match_slot(uri, h->f, slots[i], &ti)) < 0) {
			r = m;
			goto out;
		}
		if (m == 0)
			continue;
		/* Two matches would make which key signs depend on slot order. */
		if (++found > 1) {
			hsm_error_set("more than one token matches; add "
			    "serial= to the URI");
			r = ERR_HSM_AMBIGUOUS;
			goto out;
		}
		h->slot = slots[i];
		h->token = ti;
	}
	if (found == 0) {
		hsm_error_set("no initialised token among %lu slot(s) matches",
		    nslots);
		r = ERR_HSM_NO_TOKEN;
		goto out;
	}
	if ((r = hsm_pool_open(h, nsessions)) != 0)
		goto out;
	*out = h;
	h = NULL;
	r = 0;
out:
	hsm_close(h);
	free(slots);
	if (uri != NULL)
		p11_kit_uri_free(uri);
	return r;
}

void
hsm_close(struct hsm *h)
{
	if (h == NULL)
		return;
	hsm_pool_close(h);
	hsm_module_put(h->mod);
	free(h);
}
