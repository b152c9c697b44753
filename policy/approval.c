/* approval.c: the canonical text approvers sign, built from an intent and parsed back strictly. */
#include "policy/internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"

#define HEADER "signer-approval v1\n"
#define LINE_MAX_VALUE 96	/* longest value: a 78-digit amount */

static const char *const action_names[] = {
	[POL_ACTION_SIGN] = "sign",
	[POL_ACTION_CANCEL] = "cancel",
	[POL_ACTION_PAUSE] = "pause",
	[POL_ACTION_UNPAUSE] = "unpause",
	[POL_ACTION_POLICY] = "policy",
	[POL_ACTION_POLICY_CANCEL] = "policy-cancel",
};

#define ACTION_LAST POL_ACTION_POLICY_CANCEL

static int
is_policy_action(int action)
{
	return action == POL_ACTION_POLICY ||
	    action == POL_ACTION_POLICY_CANCEL;
}

const char *
pol_action_name(int action)
{
	if (action < POL_ACTION_SIGN || action > ACTION_LAST)
		return "?";
	return action_names[action];
}

/* Ids (policy and request) use the wire's id class: no escaping anywhere. */
int
pol_id_ok(const char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		char ch = s[i];

		if (i >= max)
			return 0;
		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
		    ch == ':' || ch == '-'))
			return 0;
	}
	return i > 0;
}

static int
asset_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (i >= POL_ASSET_NAME_MAX)
			return 0;
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
			return 0;
	}
	return i > 0;
}

/* The fields a message of its action must have, and only those. */
static int
msg_ok(const struct pol_approval_msg *m)
{
	static const uint8_t zero_addr[EVM_ADDR_LEN], zero_hash[32];
	u256 zero;
	int hashes;

	if (m->action < POL_ACTION_SIGN || m->action > ACTION_LAST)
		return 0;
	if (memchr(m->policy_id, '\0', sizeof(m->policy_id)) == NULL ||
	    memchr(m->request_id, '\0', sizeof(m->request_id)) == NULL ||
	    memchr(m->asset, '\0', sizeof(m->asset)) == NULL ||
	    !pol_id_ok(m->policy_id, POL_ID_MAX))
		return 0;
	/* A policy text names two hashes and no request; others a request. */
	hashes = memcmp(m->replaces, zero_hash, 32) != 0 ||
	    memcmp(m->proposed, zero_hash, 32) != 0;
	if (is_policy_action(m->action)) {
		if (m->request_id[0] != '\0')
			return 0;
	} else if (hashes || !pol_id_ok(m->request_id, POL_REQUEST_ID_MAX)) {
		return 0;
	}
	if (m->action == POL_ACTION_SIGN)
		return m->chain_id != 0 && asset_ok(m->asset);
	/* Other actions carry no intent: one message, one text. */
	u256_from_u64(&zero, 0);
	return m->chain_id == 0 && m->asset[0] == '\0' &&
	    memcmp(m->to, zero_addr, EVM_ADDR_LEN) == 0 &&
	    u256_cmp(&m->amount, &zero) == 0;
}

int
pol_approval_msg_sign(struct pol_approval_msg *out,
    const struct pol_policy *p, const char *request_id,
    const struct pol_intent *in, uint64_t expires)
{
	memset(out, 0, sizeof(*out));
	if (strnlen(request_id, POL_REQUEST_ID_MAX + 1) > POL_REQUEST_ID_MAX ||
	    !pol_id_ok(request_id, POL_REQUEST_ID_MAX))
		return ERR_MALFORMED;
	out->action = POL_ACTION_SIGN;
	memcpy(out->policy_id, p->policy_id, sizeof(out->policy_id));
	memcpy(out->request_id, request_id, strlen(request_id) + 1);
	out->chain_id = in->chain_id;
	memcpy(out->asset, in->asset_name, sizeof(out->asset));
	memcpy(out->to, in->recipient, EVM_ADDR_LEN);
	out->amount = in->amount;
	out->expires = expires;
	return 0;
}

int
pol_approval_msg_op(struct pol_approval_msg *out,
    const struct pol_policy *p, enum pol_action action, const char *id,
    uint64_t expires)
{
	memset(out, 0, sizeof(*out));
	if (action != POL_ACTION_CANCEL && action != POL_ACTION_PAUSE &&
	    action != POL_ACTION_UNPAUSE)
		return ERR_INVALID_ARG;
	if (strnlen(id, POL_REQUEST_ID_MAX + 1) > POL_REQUEST_ID_MAX ||
	    !pol_id_ok(id, POL_REQUEST_ID_MAX))
		return ERR_MALFORMED;
	out->action = action;
	memcpy(out->policy_id, p->policy_id, sizeof(out->policy_id));
	memcpy(out->request_id, id, strlen(id) + 1);
	out->expires = expires;
	return 0;
}

int
pol_approval_msg_policy(struct pol_approval_msg *out,
    const struct pol_policy *in_force, enum pol_action action,
    const uint8_t proposed[32], uint64_t expires)
{
	memset(out, 0, sizeof(*out));
	if (!is_policy_action(action))
		return ERR_INVALID_ARG;
	out->action = action;
	memcpy(out->policy_id, in_force->policy_id, sizeof(out->policy_id));
	memcpy(out->replaces, pol_hash(in_force), 32);
	memcpy(out->proposed, proposed, 32);
	out->expires = expires;
	return 0;
}

int
pol_approval_text(char *out, size_t cap, size_t *len,
    const struct pol_approval_msg *m)
{
	char to[EVM_ADDR_STR], amount[U256_DEC_MAX], replaces[65],
	    proposed[65];
	int n;

	*len = 0;
	if (cap > 0)
		out[0] = '\0';
	if (!msg_ok(m))
		return ERR_MALFORMED;
	if (m->action == POL_ACTION_SIGN) {
		evm_addr_to_str(to, m->to);
		u256_to_dec(amount, sizeof(amount), &m->amount);
		n = snprintf(out, cap, HEADER "action: sign\npolicy: %s\n"
		    "request: %s\nchain: %" PRIu64 "\nasset: %s\nto: %s\n"
		    "amount: %s\nexpires: %" PRIu64 "\n", m->policy_id,
		    m->request_id, m->chain_id, m->asset, to, amount,
		    m->expires);
	} else if (is_policy_action(m->action)) {
		util_hex_encode(replaces, m->replaces, 32);
		util_hex_encode(proposed, m->proposed, 32);
		n = snprintf(out, cap, HEADER "action: %s\npolicy: %s\n"
		    "replaces: %s\nproposed: %s\nexpires: %" PRIu64 "\n",
		    action_names[m->action], m->policy_id, replaces, proposed,
		    m->expires);
	} else {
		n = snprintf(out, cap, HEADER "action: %s\npolicy: %s\n"
		    "request: %s\nexpires: %" PRIu64 "\n",
		    action_names[m->action], m->policy_id, m->request_id,
		    m->expires);
	}
	if (n < 0 || (size_t)n >= cap) {
		if (cap > 0)
			out[0] = '\0';
		return ERR_TOO_LARGE;
	}
	*len = (size_t)n;
	return 0;
}

/* --- parsing ---------------------------------------------------------- */

struct cur {
	const uint8_t *p;
	size_t len;
	size_t off;
};

/*
 * Reads the line "<key>: <value>\n" into value (printable ASCII, no
 * space, 1..cap-1 bytes).  The key must be exactly the one expected here:
 * the order of lines is fixed.
 */
static int
get_line(struct cur *c, const char *key, char *value, size_t cap)
{
	size_t klen = strlen(key), i = 0;

	value[0] = '\0';
	if (c->len - c->off < klen + 2 ||
	    memcmp(c->p + c->off, key, klen) != 0 ||
	    c->p[c->off + klen] != ':' || c->p[c->off + klen + 1] != ' ')
		return ERR_MALFORMED;
	c->off += klen + 2;
	for (;;) {
		uint8_t ch;

		if (c->off >= c->len)
			return ERR_MALFORMED;	/* no final newline */
		ch = c->p[c->off++];
		if (ch == '\n')
			break;
		if (ch <= 0x20 || ch >= 0x7f || i + 1 >= cap)
			return ERR_MALFORMED;
		value[i++] = (char)ch;
	}
	value[i] = '\0';
	return i > 0 ? 0 : ERR_MALFORMED;
}

/* Decimal u64, canonical: no sign, no leading zero, no overflow. */
static int
parse_u64(uint64_t *out, const char *s)
{
	uint64_t v = 0;
	size_t i;

	*out = 0;
	if (s[0] == '\0')
		return ERR_MALFORMED;
	if (s[0] == '0' && s[1] != '\0')
		return ERR_NONCANONICAL;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return ERR_MALFORMED;
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return ERR_MALFORMED;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/* 64 lowercase hex digits: one hash, one text. */
static int
parse_hex32(uint8_t out[32], const char *s)
{
	size_t i;
	int hi, lo;

	if (strlen(s) != 64)
		return ERR_MALFORMED;
	for (i = 0; i < 32; i++) {
		hi = s[2 * i];
		lo = s[2 * i + 1];
		if (!((hi >= '0' && hi <= '9') || (hi >= 'a' && hi <= 'f')) ||
		    !((lo >= '0' && lo <= '9') || (lo >= 'a' && lo <= 'f')))
			return ERR_MALFORMED;
		out[i] = (uint8_t)(((hi <= '9' ? hi - '0' : hi - 'a' + 10) << 4) |
		    (lo <= '9' ? lo - '0' : lo - 'a' + 10));
	}
	return 0;
}

static int
parse_action(enum pol_action *out, const char *s)
{
	int a;

	for (a = POL_ACTION_SIGN; a <= ACTION_LAST; a++) {
		if (strcmp(s, action_names[a]) == 0) {
			*out = (enum pol_action)a;
			return 0;
		}
	}
	return ERR_MALFORMED;
}

static int
parse_body(struct pol_approval_msg *m, struct cur *c)
{
	char v[LINE_MAX_VALUE];
	int r;

	if (c->len < strlen(HEADER) || memcmp(c->p, HEADER, strlen(HEADER)) != 0)
		return ERR_MALFORMED;
	c->off = strlen(HEADER);
	if ((r = get_line(c, "action", v, sizeof(v))) != 0 ||
	    (r = parse_action(&m->action, v)) != 0 ||
	    (r = get_line(c, "policy", m->policy_id,
	    sizeof(m->policy_id))) != 0)
		return r;
	if (!pol_id_ok(m->policy_id, POL_ID_MAX))
		return ERR_MALFORMED;
	if (is_policy_action(m->action)) {
		if ((r = get_line(c, "replaces", v, sizeof(v))) != 0 ||
		    (r = parse_hex32(m->replaces, v)) != 0 ||
		    (r = get_line(c, "proposed", v, sizeof(v))) != 0 ||
		    (r = parse_hex32(m->proposed, v)) != 0)
			return r;
	} else {
		if ((r = get_line(c, "request", m->request_id,
		    sizeof(m->request_id))) != 0)
			return r;
		if (!pol_id_ok(m->request_id, POL_REQUEST_ID_MAX))
			return ERR_MALFORMED;
	}
	if (m->action == POL_ACTION_SIGN) {
		if ((r = get_line(c, "chain", v, sizeof(v))) != 0 ||
		    (r = parse_u64(&m->chain_id, v)) != 0)
			return r;
		if (m->chain_id == 0)
			return ERR_MALFORMED;
		if ((r = get_line(c, "asset", m->asset, sizeof(m->asset))) != 0)
			return r;
		if (!asset_ok(m->asset))
			return ERR_MALFORMED;
		/* Only the exact EIP-55 form: one address, one text. */
		if ((r = get_line(c, "to", v, sizeof(v))) != 0 ||
		    evm_addr_from_str(m->to, v, 0) != 0)
			return ERR_MALFORMED;
		if ((r = get_line(c, "amount", v, sizeof(v))) != 0)
			return r;
		if ((r = u256_from_dec(&m->amount, v)) != 0)
			return r == ERR_NONCANONICAL ? r : ERR_MALFORMED;
	}
	if ((r = get_line(c, "expires", v, sizeof(v))) != 0 ||
	    (r = parse_u64(&m->expires, v)) != 0)
		return r;
	return c->off == c->len ? 0 : ERR_MALFORMED;
}

int
pol_approval_parse(struct pol_approval_msg *out, const uint8_t *text,
    size_t len)
{
	struct cur c;
	int r;

	memset(out, 0, sizeof(*out));
	if (len > POL_APPROVAL_TEXT_MAX)
		return ERR_TOO_LARGE;
	c.p = text;
	c.len = len;
	c.off = 0;
	if ((r = parse_body(out, &c)) != 0)
		memset(out, 0, sizeof(*out));
	return r;
}
