/*
 * cmd_signer.c: signerctl commands that talk to a running signerd over its
 * socket: sign, queue, exposure, status, policy; and the option parsing
 * and request files every such command shares.
 */
#include "signerctl/cmd_signer.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/err.h"
#include "evm/addr.h"
#include "policy/policy.h"
#include "proto/client.h"
#include "proto/msg.h"
#include "signerctl/ctl.h"

#define DEFAULT_SOCKET CTL_DEFAULT_SOCKET
#define TIMEOUT_MS CTL_TIMEOUT_MS

int
ctl_signer_fail(const char *cmd, const char *what, int r)
{
	fprintf(stderr, "signerctl %s: %s: %s%s%s\n", cmd, what, err_str(r),
	    prt_client_last_error()[0] ? ": " : "", prt_client_last_error());
	return CTL_EXIT_FAIL;
}

int
ctl_signer_usage(const char *cmd, const char *msg)
{
	fprintf(stderr, "signerctl %s: %s\nTry 'signerctl %s --help'.\n", cmd,
	    msg, cmd);
	return CTL_EXIT_USAGE;
}

static int
fail(const char *cmd, const char *what, int r)
{
	return ctl_signer_fail(cmd, what, r);
}

static int
usage(const char *cmd, const char *msg)
{
	return ctl_signer_usage(cmd, msg);
}

static void
help(const char *cmd)
{
	if (strcmp(cmd, "sign") == 0 || strcmp(cmd, "queue") == 0)
		printf("usage: signerctl %s [--socket URL] --request FILE "
		    "[--from ADDR] [--created-day N]\n\n"
		    "%s\nFILE is JSON: {\"request_id\", \"asset\", "
		    "\"chain_id\", \"to\", \"amount\" (decimal string),\n"
		    "\"tx\" (unsigned EIP-1559 hex), \"approvals\" (optional "
		    "list of {\"approver\", \"expiry\", \"signature\"},\n"
		    "as `signerctl approve` prints them), \"from\" (optional)}."
		    "  The reply's reason names any refusal.\n\n"
		    "  --from ADDR   the address expected to sign (EIP-55); "
		    "overrides FILE's \"from\".\n"
		    "                Default: the address of the asset's key "
		    "in the policy in force\n"
		    "                (STATUS and POLICY).  A fee bump of a "
		    "payout signed before a\n"
		    "                key rotation names the address that "
		    "signed it first.  signerd\n"
		    "                refuses KEY_MISMATCH when its key for the "
		    "payout has another.\n"
		    "  --created-day N  the UTC day (days since 1970-01-01, "
		    "1..4294967295) on which\n"
		    "                   this request id was first sent; default "
		    "today (this host's\n"
		    "                   clock).  A retry or fee bump names the "
		    "first request's day.\n"
		    "                   signerd refuses REQUEST_EXPIRED a day "
		    "before its retention\n"
		    "                   window.\n"
		    "Exit status: 0 %s, 1 refused or failed, 2 usage.\n", cmd,
		    strcmp(cmd, "sign") == 0 ?
		    "Sends a sign request to signerd and prints its reply as "
		    "JSON." : "Queues a payout above its timelock threshold; "
		    "prints the earliest time\nit may be signed (unix "
		    "seconds, signer's clock).", strcmp(cmd, "sign") == 0 ?
		    "signed" : "queued");
	else if (strcmp(cmd, "exposure") == 0)
		printf("usage: signerctl exposure [--socket URL] --asset A "
		    "[--date YYYY-MM-DD] [--json]\n\nShows what signerd "
		    "signed for asset A on a UTC day (default today), the "
		    "daily limit and what remains.\n");
	else
		printf("usage: signerctl %s [--socket URL] [--json]\n", cmd);
	printf("\n  --socket URL  signerd's socket (default $SIGNERD_SOCKET "
	    "or %s)\n", DEFAULT_SOCKET);
}

int
ctl_signer_parse(struct sopts *o, int argc, char **argv,
    void (*help_fn)(const char *cmd))
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "request", required_argument, NULL, 'r' },
		{ "from", required_argument, NULL, 'f' },
		{ "created-day", required_argument, NULL, 'c' },
		{ "asset", required_argument, NULL, 'a' },
		{ "date", required_argument, NULL, 'd' },
		{ "request-id", required_argument, NULL, 'i' },
		{ "pause-id", required_argument, NULL, 'p' },
		{ "approval", required_argument, NULL, 'A' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	memset(o, 0, sizeof(*o));
	o->socket = getenv("SIGNERD_SOCKET") ? getenv("SIGNERD_SOCKET") :
	    DEFAULT_SOCKET;
	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (ch) {
		case 's': o->socket = optarg; break;
		case 'r': o->request = optarg; break;
		case 'f': o->from = optarg; break;
		case 'c': o->created_day = optarg; break;
		case 'a': o->asset = optarg; break;
		case 'd': o->date = optarg; break;
		case 'i': o->request_id = optarg; break;
		case 'p': o->pause_id = optarg; break;
		case 'A':
			if (o->napprovals >= PRT_APPROVALS_MAX)
				return usage(argv[0], "too many --approval");
			o->approvals[o->napprovals++] = optarg;
			break;
		case 'j': o->json = 1; break;
		case 'h': help_fn(argv[0]); return -1;
		case ':': return usage(argv[0], "an option needs a value");
		default: return usage(argv[0], "unknown option");
		}
	}
	if (optind != argc)
		return usage(argv[0], "unexpected argument");
	return 0;
}

/* Parses argv with the help of this file's commands. */
static int
parse(struct sopts *o, int argc, char **argv)
{
	return ctl_signer_parse(o, argc, argv, help);
}

int
ctl_signer_connect(struct prt_client **c, const char *cmd, const char *url)
{
	int r;

	if ((r = prt_client_open(c, url, TIMEOUT_MS)) != 0)
		return fail(cmd, url, r);
	return 0;
}

static int
connect_to(struct prt_client **c, const char *cmd, const char *url)
{
	return ctl_signer_connect(c, cmd, url);
}

int
ctl_approval_from_json(struct prt_approval *a, const json_t *o,
    const char **bad)
{
	char buf[2 * PRT_APPROVAL_SIG_MAX + 8];
	const json_t *name = json_object_get(o, "approver");
	const json_t *exp = json_object_get(o, "expiry");
	const json_t *sig = json_object_get(o, "signature");

	memset(a, 0, sizeof(*a));
	if (!json_is_string(name) ||
	    strlen(json_string_value(name)) >= sizeof(a->approver)) {
		*bad = "approver";
		return -1;
	}
	if (!json_is_integer(exp) || json_integer_value(exp) < 0) {
		*bad = "expiry";
		return -1;
	}
	if (!json_is_string(sig) || strlen(json_string_value(sig)) >=
	    sizeof(buf) || util_hex_decode_var(a->sig, sizeof(a->sig),
	    &a->sig_len, json_string_value(sig)) != 0) {
		*bad = "signature (hex)";
		return -1;
	}
	snprintf(a->approver, sizeof(a->approver), "%s",
	    json_string_value(name));
	a->expiry = (uint64_t)json_integer_value(exp);
	return 0;
}

int
ctl_approval_load(struct prt_approval *a, const char *path, char *err,
    size_t errlen)
{
	const char *bad = NULL;
	json_error_t jerr;
	json_t *root;
	int r = 0;

	memset(a, 0, sizeof(*a));
	if ((root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL) {
		snprintf(err, errlen, "%s:%d: %s", path, jerr.line, jerr.text);
		return -1;
	}
	if (ctl_approval_from_json(a, root, &bad) != 0) {
		snprintf(err, errlen, "%s: field %s is missing or invalid",
		    path, bad);
		r = -1;
	}
	json_decref(root);
	return r;
}

/* signerd's retry advice (protocol 5), when it gave one: seconds. */
static void
put_retry_after(json_t *out, const struct prt_reply_hdr *hdr)
{
	if (out != NULL && hdr->retry_after_s != 0)
		json_object_set_new(out, "retry_after_s",
		    json_integer((json_int_t)hdr->retry_after_s));
}

int
ctl_print_result(const char *id_key, const char *id,
    const struct prt_reply_hdr *hdr)
{
	json_t *out = json_pack("{s:s, s:i, s:s, s:s}", id_key, id, "result",
	    hdr->result, "reason", pol_reason_name(hdr->result), "message",
	    hdr->message);

	if (out == NULL)
		return CTL_EXIT_FAIL;
	put_retry_after(out, hdr);
	json_dumpf(out, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	printf("\n");
	json_decref(out);
	return hdr->result == 0 ? CTL_EXIT_OK : CTL_EXIT_FAIL;
}

/* Copies a JSON string member into out; names the field when it is bad. */
static int
get_str(char *out, size_t cap, const json_t *o, const char *key,
    const char **bad)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_string(v) || strlen(json_string_value(v)) >= cap) {
		*bad = key;
		return -1;
	}
	snprintf(out, cap, "%s", json_string_value(v));
	return 0;
}

/* *has_from says whether FILE named the sender ("from"). */
static int
load_request(struct prt_sign_req *req, int *has_from, const char *path,
    char *err, size_t errlen)
{
	char buf[2 * PRT_TX_MAX + 8], amount[U256_DEC_MAX], to[EVM_ADDR_STR + 1];
	char from[EVM_ADDR_STR + 1];
	const json_t *chain, *aps, *ap;
	const char *bad = NULL;
	json_error_t jerr;
	json_t *root;
	size_t i;
	int r = -1;

	memset(req, 0, sizeof(*req));
	*has_from = 0;
	if ((root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL) {
		snprintf(err, errlen, "%s:%d: %s", path, jerr.line, jerr.text);
		return -1;
	}
	chain = json_object_get(root, "chain_id");
	if (get_str(req->request_id, sizeof(req->request_id), root,
	    "request_id", &bad) != 0 ||
	    get_str(req->asset, sizeof(req->asset), root, "asset", &bad) != 0 ||
	    get_str(to, sizeof(to), root, "to", &bad) != 0 ||
	    get_str(amount, sizeof(amount), root, "amount", &bad) != 0 ||
	    get_str(buf, sizeof(buf), root, "tx", &bad) != 0)
		goto out;
	if (!json_is_integer(chain) || json_integer_value(chain) <= 0) {
		bad = "chain_id";
		goto out;
	}
	req->chain_id = (uint64_t)json_integer_value(chain);
	if (evm_addr_from_str(req->to, to, 0) != 0) {
		bad = "to (an EIP-55 checksummed address)";
		goto out;
	}
	if (json_object_get(root, "from") != NULL) {
		if (get_str(from, sizeof(from), root, "from", &bad) != 0 ||
		    evm_addr_from_str(req->from, from, 0) != 0) {
			bad = "from (an EIP-55 checksummed address)";
			goto out;
		}
		*has_from = 1;
	}
	if (u256_from_dec(&req->amount, amount) != 0) {
		bad = "amount (a decimal string)";
		goto out;
	}
	if (util_hex_decode_var(req->tx, sizeof(req->tx), &req->tx_len,
	    buf) != 0) {
		bad = "tx (hex)";
		goto out;
	}
	aps = json_object_get(root, "approvals");
	if (aps != NULL && (!json_is_array(aps) ||
	    json_array_size(aps) > PRT_APPROVALS_MAX)) {
		bad = "approvals";
		goto out;
	}
	json_array_foreach(aps, i, ap) {
		if (ctl_approval_from_json(&req->approvals[i], ap, &bad) != 0) {
			bad = "approvals[]";
			goto out;
		}
		req->napprovals++;
	}
	r = 0;
 out:
	if (r != 0)
		snprintf(err, errlen, "%s: field %s is missing or invalid",
		    path, bad ? bad : "?");
	json_decref(root);
	return r;
}

/*
 * The address of the asset's key in the policy in force: the key's name
 * from POLICY, its address from STATUS.  Both must be of one version (the
 * policy hash), else a version took effect between the two: the caller
 * may try again.  An asset the policy lacks, or a key signerd does not
 * hold, leaves from zero: signerd then refuses and its reason says why.
 * Returns 0, or CTL_EXIT_FAIL after printing what failed.
 */
static int
asset_sender(uint8_t from[EVM_ADDR_LEN], struct prt_client *c,
    const char *cmd, const char *asset)
{
	struct prt_status_rep *st = calloc(1, sizeof(*st));
	struct pol_policy *pol = NULL;
	const struct pol_asset *a;
	struct prt_reply_hdr hdr;
	char *json = NULL, perr[256];
	size_t len, i;
	int r;

	memset(from, 0, EVM_ADDR_LEN);
	if (st == NULL) {
		r = fail(cmd, "memory", ERR_NOMEM);
		goto out;
	}
	if ((r = prt_client_policy(c, &json, &len, &hdr)) == 0 &&
	    hdr.result == 0)
		r = prt_client_status(c, st, &hdr);
	if (r != 0) {
		r = fail(cmd, "the asset's sender (POLICY, STATUS)", r);
		goto out;
	}
	if (hdr.result != 0) {
		fprintf(stderr, "signerctl %s: the asset's sender: %s\n", cmd,
		    hdr.message);
		r = CTL_EXIT_FAIL;
		goto out;
	}
	if (pol_parse(&pol, (const uint8_t *)json, len, perr,
	    sizeof(perr)) != 0) {
		fprintf(stderr, "signerctl %s: signerd's policy: %s\n", cmd,
		    perr);
		r = CTL_EXIT_FAIL;
		goto out;
	}
	if (memcmp(pol_hash(pol), st->policy_hash, PRT_HASH_LEN) != 0) {
		fprintf(stderr, "signerctl %s: a policy version took effect "
		    "meanwhile; try again\n", cmd);
		r = CTL_EXIT_FAIL;
		goto out;
	}
	r = 0;
	if (pol_asset_by_name(pol, asset, &i) != 0)
		goto out;
	a = pol_asset(pol, i);
	for (i = 0; i < st->nkeys; i++) {
		if (strcmp(st->keys[i].name, a->key) == 0) {
			memcpy(from, st->keys[i].address, EVM_ADDR_LEN);
			break;
		}
	}
out:
	pol_free(pol);
	free(json);
	free(st);
	return r;
}

/*
 * --created-day N: a decimal day number that fits the wire's u32 and is
 * not 0 (which the codec refuses), read without strtoul's leniency (a
 * sign, spaces, an empty string or digits past the range).  Returns 0,
 * else -1.
 */
static int
parse_created_day(uint32_t *day, const char *s)
{
	uint64_t v = 0;
	size_t i;

	*day = 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (i == 0 || v == 0 || v > UINT32_MAX)
		return -1;
	*day = (uint32_t)v;
	return 0;
}

/*
 * Today's UTC day by this host's clock: the day a new request is created
 * on.  -1 when the clock is before 1970-01-02 or past the u32 range,
 * where no request can be dated.
 */
static int
today_created_day(uint32_t *day)
{
	int64_t d = pol_utc_day((int64_t)time(NULL));

	*day = 0;
	if (d < 1 || d > (int64_t)UINT32_MAX)
		return -1;
	*day = (uint32_t)d;
	return 0;
}

/* sign and queue: the same request file, another message type. */
static int
cmd_sign(int argc, char **argv)
{
	struct prt_sign_req *req = calloc(1, sizeof(*req));
	struct prt_sign_rep *rep = calloc(1, sizeof(*rep));
	struct prt_client *c = NULL;
	struct prt_queue_rep qrep;
	struct prt_reply_hdr hdr;
	const char *cmd = argv[0];
	int queue = strcmp(cmd, "queue") == 0;
	char err[512], *hex = NULL;
	struct sopts o;
	json_t *out = NULL;
	int has_from, r;

	if (req == NULL || rep == NULL) {
		r = fail(cmd, "memory", ERR_NOMEM);
		goto done;
	}
	if ((r = parse(&o, argc, argv)) != 0) {
		r = r < 0 ? CTL_EXIT_OK : r;
		goto done;
	}
	if (o.request == NULL) {
		r = usage(cmd, "missing --request FILE");
		goto done;
	}
	if (load_request(req, &has_from, o.request, err, sizeof(err)) != 0) {
		fprintf(stderr, "signerctl %s: %s\n", cmd, err);
		r = CTL_EXIT_FAIL;
		goto done;
	}
	if (o.from != NULL) {
		if (evm_addr_from_str(req->from, o.from, 0) != 0) {
			r = usage(cmd, "--from must be an EIP-55 checksummed "
			    "address");
			goto done;
		}
		has_from = 1;
	}
	if (o.created_day != NULL ?
	    parse_created_day(&req->created_day, o.created_day) != 0 :
	    today_created_day(&req->created_day) != 0) {
		r = usage(cmd, o.created_day != NULL ? "--created-day must be "
		    "a UTC day number (days since 1970-01-01) from 1 to "
		    "4294967295" : "this host's clock gives no UTC day from 1 "
		    "to 4294967295; give --created-day");
		goto done;
	}
	if ((r = connect_to(&c, cmd, o.socket)) != 0)
		goto done;
	if (!has_from && (r = asset_sender(req->from, c, cmd,
	    req->asset)) != 0)
		goto done;
	r = queue ? prt_client_queue(c, req, &qrep, &hdr) :
	    prt_client_sign(c, req, rep, &hdr);
	if (r != 0) {
		r = fail(cmd, "request", r);
		goto done;
	}
	out = json_pack("{s:s, s:i, s:s, s:s}", "request_id", req->request_id,
	    "result", hdr.result, "reason", pol_reason_name(hdr.result),
	    "message", hdr.message);
	put_retry_after(out, &hdr);
	if (out != NULL && queue && hdr.result == 0)
		json_object_set_new(out, "earliest",
		    json_integer((json_int_t)qrep.earliest));
	if (out != NULL && !queue && hdr.result == 0 &&
	    (hex = malloc(2 * rep->raw_len + 3)) != NULL) {
		hex[0] = '0';
		hex[1] = 'x';
		util_hex_encode(hex + 2, rep->raw, rep->raw_len);
		json_object_set_new(out, "raw", json_string(hex));
		util_hex_encode(hex + 2, rep->tx_hash, 32);
		json_object_set_new(out, "tx_hash", json_string(hex));
	}
	json_dumpf(out, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	printf("\n");
	r = hdr.result == 0 ? CTL_EXIT_OK : CTL_EXIT_FAIL;
 done:
	free(hex);
	json_decref(out);
	prt_client_close(c);
	free(req);
	free(rep);
	return r;
}

/* "YYYY-MM-DD" to days since 1970-01-01; -1 when it is not a date. */
static int64_t
parse_date(const char *s)
{
	struct tm tm;
	char *end;

	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(s, "%Y-%m-%d", &tm)) == NULL || *end != '\0')
		return -1;
	return (int64_t)timegm(&tm) / 86400;
}

static void
format_date(char *out, size_t cap, uint32_t days)
{
	time_t t = (time_t)days * 86400;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, cap, "%Y-%m-%d", &tm);
}

static int
cmd_exposure(int argc, char **argv)
{
	struct prt_client *c = NULL;
	struct prt_exposure_req req;
	struct prt_exposure_rep rep;
	struct prt_reply_hdr hdr;
	char date[16], total[U256_DEC_MAX], limit[U256_DEC_MAX],
	    left[U256_DEC_MAX];
	struct sopts o;
	int64_t day;
	int r;

	if ((r = parse(&o, argc, argv)) != 0)
		return r < 0 ? CTL_EXIT_OK : r;
	if (o.asset == NULL)
		return usage("exposure", "missing --asset A");
	memset(&req, 0, sizeof(req));
	snprintf(req.asset, sizeof(req.asset), "%s", o.asset);
	req.date = PRT_DATE_TODAY;
	if (o.date != NULL) {
		if ((day = parse_date(o.date)) < 0)
			return usage("exposure", "--date must be YYYY-MM-DD "
			    "on or after 1970-01-01");
		req.date = (uint32_t)day;
	}
	if ((r = connect_to(&c, "exposure", o.socket)) != 0)
		return r;
	r = prt_client_exposure(c, &req, &rep, &hdr);
	prt_client_close(c);
	if (r != 0)
		return fail("exposure", "request", r);
	if (hdr.result != 0) {
		fprintf(stderr, "signerctl exposure: %s\n", hdr.message);
		return CTL_EXIT_FAIL;
	}
	format_date(date, sizeof(date), rep.date);
	u256_to_dec(total, sizeof(total), &rep.signed_total);
	u256_to_dec(limit, sizeof(limit), &rep.limit);
	u256_to_dec(left, sizeof(left), &rep.remaining);
	if (o.json)
		printf("{\"asset\":\"%s\",\"date\":\"%s\",\"signed\":\"%s\","
		    "\"limit\":\"%s\",\"remaining\":\"%s\"}\n", rep.asset,
		    date, total, limit, left);
	else
		printf("asset      %s\ndate       %s (UTC)\nsigned     %s\n"
		    "limit      %s\nremaining  %s\n", rep.asset, date, total,
		    limit, left);
	return CTL_EXIT_OK;
}

static int
cmd_status(int argc, char **argv)
{
	struct prt_status_rep *rep = calloc(1, sizeof(*rep));
	struct prt_client *c = NULL;
	struct prt_reply_hdr hdr;
	char phash[65], head[65], addr[EVM_ADDR_STR];
	struct sopts o;
	json_t *out, *keys;
	size_t i;
	int r;

	if (rep == NULL)
		return fail("status", "memory", ERR_NOMEM);
	if ((r = parse(&o, argc, argv)) != 0 ||
	    (r = connect_to(&c, "status", o.socket)) != 0) {
		free(rep);
		return r < 0 ? CTL_EXIT_OK : r;
	}
	r = prt_client_status(c, rep, &hdr);
	prt_client_close(c);
	if (r != 0 || hdr.result != 0) {
		free(rep);
		if (r != 0)
			return fail("status", "request", r);
		fprintf(stderr, "signerctl status: %s\n", hdr.message);
		return CTL_EXIT_FAIL;
	}
	util_hex_encode(phash, rep->policy_hash, 32);
	util_hex_encode(head, rep->head_hash, 32);
	out = json_pack("{s:s, s:s, s:s, s:I, s:s, s:b}", "version",
	    rep->version, "policy_id", rep->policy_id, "policy_hash", phash,
	    "journal_seq", (json_int_t)rep->head_seq, "journal_head", head,
	    "paused", rep->paused);
	keys = json_array();
	for (i = 0; i < rep->nkeys; i++) {
		evm_addr_to_str(addr, rep->keys[i].address);
		json_array_append_new(keys, json_pack("{s:s, s:s}", "name",
		    rep->keys[i].name, "address", addr));
	}
	json_object_set_new(out, "keys", keys);
	/* Whether a sign could succeed now, and the first reason not. */
	json_object_set_new(out, "can_sign", json_boolean(rep->can_sign));
	if (!rep->can_sign) {
		json_object_set_new(out, "blocked",
		    json_string(pol_reason_name(rep->blocked)));
		json_object_set_new(out, "why", json_string(hdr.message));
	}
	/* When paused, the reply names the pause: unpausing names it too. */
	if (rep->paused)
		json_object_set_new(out, "pause", json_string(hdr.message));
	if (o.json) {
		json_dumpf(out, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		printf("\n");
	} else {
		printf("version       %s\npolicy        %s\npolicy hash   %s\n"
		    "journal head  %llu %s\npaused        %s\n",
		    rep->version, rep->policy_id, phash,
		    (unsigned long long)rep->head_seq, head,
		    rep->paused ? "YES: every payout is refused" : "no");
		if (rep->paused)
			printf("              %s\n", hdr.message);
		printf("can sign      %s\nkeys:\n", rep->can_sign ? "yes" :
		    hdr.message);
		for (i = 0; i < rep->nkeys; i++) {
			evm_addr_to_str(addr, rep->keys[i].address);
			printf("  %-16s %s\n", rep->keys[i].name, addr);
		}
	}
	json_decref(out);
	free(rep);
	return CTL_EXIT_OK;
}

static int
cmd_policy_show(int argc, char **argv)
{
	struct prt_client *c = NULL;
	struct prt_reply_hdr hdr;
	struct sopts o;
	char *json = NULL;
	size_t len;
	int r;

	if ((r = parse(&o, argc, argv)) != 0)
		return r < 0 ? CTL_EXIT_OK : r;
	if ((r = connect_to(&c, "policy", o.socket)) != 0)
		return r;
	r = prt_client_policy(c, &json, &len, &hdr);
	prt_client_close(c);
	if (r != 0)
		return fail("policy", "request", r);
	if (hdr.result != 0) {
		fprintf(stderr, "signerctl policy: %s\n", hdr.message);
		return CTL_EXIT_FAIL;
	}
	fwrite(json, 1, len, stdout);
	free(json);
	return CTL_EXIT_OK;
}

int
cmd_signer(int argc, char **argv)
{
	if (strcmp(argv[0], "sign") == 0 || strcmp(argv[0], "queue") == 0)
		return cmd_sign(argc, argv);
	if (strcmp(argv[0], "exposure") == 0)
		return cmd_exposure(argc, argv);
	if (strcmp(argv[0], "status") == 0)
		return cmd_status(argc, argv);
	return cmd_policy_show(argc, argv);
}
