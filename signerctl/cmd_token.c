/* cmd_token.c: signerctl token init. */
#include <stdio.h>

#include "signerctl/ctl.h"

int
ctl_token_init(const struct ctl_cmd *c, const struct ctl_opts *o)
{
	char uri[HSM_URI_MAX];
	unsigned long slot;
	int r;

	r = hsm_token_init_from(&slot, o->module, o->label, o->so_pin_file,
	    o->so_pin_env, o->pin_file, o->pin_env);
	if (r != 0)
		return ctl_fail("initialising the token", r);
	if (hsm_token_uri(uri, sizeof(uri), o->label) != 0)
		uri[0] = '\0';
	if (o->json)
		return ctl_json_emit(json_pack("{s:s, s:I, s:s}", "label",
		    o->label, "slot", (json_int_t)slot, "uri", uri));
	printf("initialised token \"%s\" in slot %lu\n", o->label, slot);
	printf("  uri  %s\n", uri);
	return CTL_EXIT_OK;
}
