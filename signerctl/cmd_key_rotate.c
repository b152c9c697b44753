/*
 * cmd_key_rotate.c: `signerctl key rotate`, which walks an operator
 * through an asset's key rotation (docs/governance.md): it checks that
 * signerd holds the new key, writes the next policy version from the one
 * in force with the asset's key replaced, and prints the steps left.
 * signerd decides everything; nothing here changes it.
 */
#include "signerctl/cmd_policy.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/err.h"
#include "evm/addr.h"
#include "policy/policy.h"
#include "proto/client.h"
#include "signerctl/cmd_signer.h"
#include "signerctl/ctl.h"

static void
help(void)
{
	printf("usage: signerctl key rotate --asset A --key NAME --policy-id ID "
	    "[--socket URL] > NEW.json\n\nWrites the next policy version, "
	    "the one in force with asset A signed by key\nNAME and the new "
	    "policy_id ID, on stdout, and the steps that remain on\nstderr.  "
	    "NAME must be a key signerd holds: generate it on the token "
	    "(signerctl\nkey generate), add it to signerd's [keys] and "
	    "restart signerd first.\n\n  --socket URL  signerd's socket "
	    "(default $SIGNERD_SOCKET or %s)\nExit status: 0 written, 1 "
	    "failed, 2 usage.\n", CTL_DEFAULT_SOCKET);
}

static int
usage(const char *msg)
{
	fprintf(stderr, "signerctl key rotate: %s\nTry 'signerctl key rotate "
	    "--help'.\n", msg);
	return CTL_EXIT_USAGE;
}

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "signerctl key rotate: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	return CTL_EXIT_FAIL;
}

/* The address signerd reports for key name, or NULL. */
static const uint8_t *
key_address(const struct prt_status_rep *st, const char *name)
{
	uint16_t i;

	for (i = 0; i < st->nkeys; i++)
		if (strcmp(st->keys[i].name, name) == 0)
			return st->keys[i].address;
	return NULL;
}

int
cmd_key_rotate(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "asset", required_argument, NULL, 'a' },
		{ "key", required_argument, NULL, 'k' },
		{ "policy-id", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sock, *asset = NULL, *key = NULL, *id = NULL, *old;
	struct prt_status_rep *st = NULL;
	struct prt_reply_hdr hdr;
	struct prt_client *c = NULL;
	char *json = NULL, *out = NULL, addr[EVM_ADDR_STR];
	const uint8_t *a;
	json_t *root = NULL, *as;
	json_error_t jerr;
	size_t len;
	int ch, r;

	sock = getenv("SIGNERD_SOCKET") ? getenv("SIGNERD_SOCKET") :
	    CTL_DEFAULT_SOCKET;
	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (ch) {
		case 's': sock = optarg; break;
		case 'a': asset = optarg; break;
		case 'k': key = optarg; break;
		case 'p': id = optarg; break;
		case 'h': help(); return CTL_EXIT_OK;
		case ':': return usage("an option needs a value");
		default: return usage("unknown option");
		}
	}
	if (optind < argc)
		return usage("no positional arguments");
	if (asset == NULL || key == NULL || id == NULL)
		return usage("needs --asset, --key and --policy-id");
	if (!pol_id_ok(id, POL_ID_MAX) || !pol_id_ok(key, POL_KEY_NAME_MAX))
		return usage("--policy-id and --key are 1..64 of "
		    "[A-Za-z0-9._:-]");
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return fail("%s", "out of memory");
	if ((r = ctl_signer_connect(&c, "key rotate", sock)) != 0)
		goto out;
	r = CTL_EXIT_FAIL;
	if (prt_client_status(c, st, &hdr) != 0 || hdr.result != 0) {
		r = fail("signerd's status: %s", hdr.message[0] ? hdr.message :
		    prt_client_last_error());
		goto out;
	}
	if ((a = key_address(st, key)) == NULL) {
		r = fail("signerd does not hold key %s: generate it on the "
		    "token, add it to [keys] and restart signerd first", key);
		goto out;
	}
	if (prt_client_policy(c, &json, &len, &hdr) != 0 || hdr.result != 0) {
		r = fail("the policy in force: %s", hdr.message);
		goto out;
	}
	if ((root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL || (as = json_object_get(json_object_get(root, "assets"),
	    asset)) == NULL || !json_is_object(as)) {
		r = fail("the policy in force has no asset %s", asset);
		goto out;
	}
	old = json_string_value(json_object_get(as, "key"));
	if (old != NULL && strcmp(old, key) == 0) {
		r = fail("asset %s is signed by that key already", asset);
		goto out;
	}
	if (strcmp(id, st->policy_id) == 0) {
		r = fail("%s is the id in force: a new version needs a new id",
		    id);
		goto out;
	}
	fprintf(stderr, "asset %s: key %s -> %s\n", asset, old ? old : "?",
	    key);
	if (json_object_set_new(as, "key", json_string(key)) != 0 ||
	    json_object_set_new(root, "policy_id", json_string(id)) != 0 ||
	    (out = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER)) ==
	    NULL) {
		r = fail("%s", "out of memory");
		goto out;
	}
	printf("%s\n", out);
	if (fflush(stdout) != 0)
		goto out;
	evm_addr_to_str(addr, a);
	fprintf(stderr, "new sender: %s\n\nnext steps (docs/governance.md):\n"
	    "  signerctl policy diff CURRENT.json NEW.json   # a loosening: a "
	    "key is added\n"
	    "  signerctl policy propose NEW.json\n"
	    "  signerctl policy text > approval.txt           # governance "
	    "approvers sign it\n"
	    "  signerctl policy approve --approval A.json --approval B.json\n"
	    "  signerctl policy status                        # effective after "
	    "the governance delay\n"
	    "Keep the old key in [keys] until its payouts are final: fee "
	    "bumps need it.\n", addr);
	r = CTL_EXIT_OK;
out:
	json_decref(root);
	free(out);
	free(json);
	free(st);
	prt_client_close(c);
	return r;
}
