/*
 * approval_verify.c: checks approvals of a policy change (docs/approvals.md)
 * offline with policy/'s own code, so a test can show that the doc's
 * openssl recipe makes approvals signerd would count (not shipped).
 *
 *   approval_verify --policy IN-FORCE.json --proposed NEW.json [--cancel]
 *                   [--text FILE] APPROVAL.json...
 *
 * Builds the policy or policy-cancel message for the proposal (replaces:
 * SHA-256 of IN-FORCE.json, proposed: SHA-256 of NEW.json) and runs
 * pol_approvals_check over the approvals ({"approver", "expiry",
 * "signature"}) at the current time, with the governance set of the
 * version in force: governance.m of them for a policy, 1 for a cancel.
 * With --text, FILE must hold exactly the text policy/ builds for the
 * first approval's expiry.  Prints the reason name and detail; exits 0
 * when the approvals count, 1 when not, 2 on bad usage or input.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "common/util.h"
#include "policy/policy.h"
#include "policy/verify.h"

#define MAX_APPROVALS 16

static int
usage(const char *msg)
{
	fprintf(stderr, "approval_verify: %s\nusage: approval_verify --policy "
	    "IN-FORCE.json --proposed NEW.json [--cancel] [--text FILE] "
	    "APPROVAL.json...\n", msg);
	return 2;
}

/* The whole file, NUL-terminated; NULL (after a message) on failure. */
static uint8_t *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0 ||
	    (buf = malloc((size_t)n + 1)) == NULL ||
	    fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "approval_verify: cannot read %s\n", path);
		free(buf);
		buf = NULL;
	} else {
		buf[n] = '\0';
		*len = (size_t)n;
	}
	if (f != NULL)
		fclose(f);
	return buf;
}

static int
load_approval(struct pol_approval *ap, const char *path)
{
	json_error_t jerr;
	json_t *o;
	const char *name, *sig;
	json_int_t expiry;
	int r = -1;

	memset(ap, 0, sizeof(*ap));
	if ((o = json_load_file(path, 0, &jerr)) == NULL ||
	    json_unpack(o, "{s:s, s:I, s:s}", "approver", &name, "expiry",
	    &expiry, "signature", &sig) != 0 || expiry < 0 ||
	    strlen(name) >= sizeof(ap->approver) ||
	    util_hex_decode_var(ap->sig, sizeof(ap->sig), &ap->sig_len,
	    sig) != 0) {
		fprintf(stderr, "approval_verify: %s is not an approval\n",
		    path);
		goto out;
	}
	strcpy(ap->approver, name);
	ap->expiry = (uint64_t)expiry;
	r = 0;
out:
	json_decref(o);
	return r;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "proposed", required_argument, NULL, 'n' },
		{ "text", required_argument, NULL, 't' },
		{ "cancel", no_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	const char *policy_path = NULL, *proposed_path = NULL, *text_path = NULL;
	struct pol_approval ap[MAX_APPROVALS];
	struct pol_approval_set set;
	struct pol_approval_msg msg;
	struct pol_verifier *v = NULL;
	struct pol_policy *p = NULL;
	enum pol_action action = POL_ACTION_POLICY;
	uint8_t proposed[32], *buf = NULL, *want = NULL;
	char err[256], detail[256], text[POL_APPROVAL_TEXT_MAX];
	size_t i, n, len, want_len, bad;
	unsigned mdlen = 0;
	enum pol_reason why;
	int ch, r = 2;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p': policy_path = optarg; break;
		case 'n': proposed_path = optarg; break;
		case 't': text_path = optarg; break;
		case 'c': action = POL_ACTION_POLICY_CANCEL; break;
		default: return usage("unknown option");
		}
	}
	n = (size_t)(argc - optind);
	if (policy_path == NULL || proposed_path == NULL || n == 0 ||
	    n > MAX_APPROVALS)
		return usage("needs --policy, --proposed and 1..16 approvals");
	for (i = 0; i < n; i++)
		if (load_approval(&ap[i], argv[optind + (int)i]) != 0)
			goto out;
	if ((buf = slurp(policy_path, &len)) == NULL)
		goto out;
	if (pol_parse(&p, buf, len, err, sizeof(err)) != 0) {
		fprintf(stderr, "approval_verify: %s: %s\n", policy_path, err);
		goto out;
	}
	free(buf);
	if ((buf = slurp(proposed_path, &len)) == NULL)
		goto out;
	if (EVP_Digest(buf, len, proposed, &mdlen, EVP_sha256(), NULL) != 1 ||
	    pol_approval_msg_policy(&msg, p, action, proposed, ap[0].expiry) !=
	    0 || pol_approval_text(text, sizeof(text), &len, &msg) != 0 ||
	    pol_verifier_new(&v, p, err, sizeof(err)) != 0) {
		fprintf(stderr, "approval_verify: cannot build the check\n");
		goto out;
	}
	if (text_path != NULL) {
		if ((want = slurp(text_path, &want_len)) == NULL)
			goto out;
		if (want_len != len || memcmp(want, text, len) != 0) {
			fprintf(stderr, "approval_verify: %s is not the text "
			    "policy/ builds:\n%s", text_path, text);
			r = 1;
			goto out;
		}
	}
	/* docs/approvals.md: m of governance approve, any one cancels. */
	pol_set_governance(&set, p);
	if (action == POL_ACTION_POLICY_CANCEL)
		set.m = 1;
	why = pol_approvals_check(v, &set, &msg, ap, n, (uint64_t)time(NULL),
	    &bad, detail, sizeof(detail));
	printf("%s%s%s\n", pol_reason_name(why), why == POL_OK ? "" : ": ",
	    detail);
	r = why == POL_OK ? 0 : 1;
out:
	pol_verifier_free(v);
	pol_free(p);
	free(buf);
	free(want);
	return r;
}
