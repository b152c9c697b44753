/* validate.c: request bodies and query values of the API, checked before anything is stored (pure). */
#include "orchestratord/validate.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "common/err.h"

#define QUOTE_MAX 32	/* input quoted in a message, at most */

static void val_fail(struct val_err *e, int status, const char *code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
val_fail(struct val_err *e, int status, const char *code, const char *fmt,
    ...)
{
	va_list ap;

	e->status = status;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
}

/*
 * Copies at most QUOTE_MAX bytes of untrusted text for a message, anything
 * but printable ASCII as '?', so that no message carries control bytes or
 * invalid UTF-8 into a JSON reply or a log line.
 */
static void
quote(char out[QUOTE_MAX + 4], const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i < QUOTE_MAX; i++)
		out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	if (s[i] != '\0') {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
}


/* --- JSON objects with a fixed set of members ----------------------------- */

/*
 * Parses body as one JSON object whose members are exactly names (n of
 * them): an unknown or missing member is a 400, as a misspelt field must
 * never be silently dropped.  Duplicate keys are refused by the parser, so
 * two readers of the body cannot see different values.
 */
static int
load_object(json_t **out, struct val_err *e, const uint8_t *body, size_t len,
    const char *const *names, size_t n)
{
	json_error_t jerr;
	json_t *root;
	const char *key;
	json_t *v;
	char q[QUOTE_MAX + 4];
	size_t i;

	*out = NULL;
	/* Any JSON value parses, so that "not an object" says so. */
	root = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES |
	    JSON_DECODE_ANY, &jerr);
	if (root == NULL) {
		quote(q, jerr.text);
		val_fail(e, 400, "BAD_JSON", "body is not JSON: line %d column "
		    "%d: %s", jerr.line, jerr.column, q);
		return ERR_MALFORMED;
	}
	if (!json_is_object(root)) {
		val_fail(e, 400, "BAD_JSON", "body must be a JSON object");
		goto bad;
	}
	json_object_foreach(root, key, v) {
		for (i = 0; i < n; i++)
			if (strcmp(key, names[i]) == 0)
				break;
		if (i == n) {
			quote(q, key);
			val_fail(e, 400, "BAD_REQUEST", "unknown field '%s'", q);
			goto bad;
		}
	}
	for (i = 0; i < n; i++) {
		if (json_object_get(root, names[i]) == NULL) {
			val_fail(e, 400, "BAD_REQUEST", "missing field '%s'",
			    names[i]);
			goto bad;
		}
	}
	*out = root;
	return 0;
bad:
	json_decref(root);
	return ERR_MALFORMED;
}

/* The member name as a string, or a 400 naming it. */
static const char *
get_string(const json_t *root, struct val_err *e, const char *name)
{
	const json_t *v = json_object_get(root, name);

	if (!json_is_string(v)) {
		val_fail(e, 400, "BAD_REQUEST", "%s must be a JSON string",
		    name);
		return NULL;
	}
	return json_string_value(v);
}

/* --- payouts ---------------------------------------------------------------- */

static int
is_token_contract(const struct pol_policy *p, const uint8_t addr[EVM_ADDR_LEN])
{
	const struct pol_asset *a;
	size_t i;

	/* Any chain: contract addresses repeat across chains. */
	for (i = 0; i < pol_asset_count(p); i++) {
		a = pol_asset(p, i);
		if (a->kind == POL_KIND_ERC20 &&
		    memcmp(a->contract, addr, EVM_ADDR_LEN) == 0)
			return 1;
	}
	return 0;
}

static int
check_to(uint8_t addr[EVM_ADDR_LEN], struct val_err *e,
    const struct pol_policy *p, const char *s)
{
	static const uint8_t zero[EVM_ADDR_LEN];
	char q[QUOTE_MAX + 4];
	int r;

	quote(q, s);
	/* No unchecksummed forms: the checksum is what catches a typo. */
	r = evm_addr_from_str(addr, s, 0);
	if (r == ERR_BAD_CHECKSUM) {
		val_fail(e, 422, "BAD_ADDRESS", "to: '%s' is not in its EIP-55 "
		    "checksummed form", q);
		return r;
	}
	if (r != 0) {
		val_fail(e, 422, "BAD_ADDRESS", "to: '%s' is not 0x followed "
		    "by 40 hex digits", q);
		return r;
	}
	if (memcmp(addr, zero, EVM_ADDR_LEN) == 0) {
		val_fail(e, 422, "BAD_ADDRESS", "to: the zero address burns "
		    "what is sent to it");
		return ERR_MALFORMED;
	}
	if (is_token_contract(p, addr)) {
		val_fail(e, 422, "BAD_ADDRESS", "to: %s is a registered token "
		    "contract, which would keep what is sent to it", q);
		return ERR_MALFORMED;
	}
	return 0;
}

static int
check_amount(u256 *out, struct val_err *e, const json_t *v)
{
	char q[QUOTE_MAX + 4];
	const char *s;
	int r;

	if (json_is_number(v)) {
		val_fail(e, 422, "BAD_AMOUNT", "amount must be a string of "
		    "decimal digits, not a JSON number (which loses precision "
		    "past 2^53)");
		return ERR_MALFORMED;
	}
	if (!json_is_string(v)) {
		val_fail(e, 400, "BAD_REQUEST", "amount must be a JSON string");
		return ERR_MALFORMED;
	}
	s = json_string_value(v);
	quote(q, s);
	r = u256_from_dec(out, s);
	if (r == ERR_NONCANONICAL) {
		val_fail(e, 422, "BAD_AMOUNT", "amount: '%s' has leading zeros",
		    q);
		return r;
	}
	if (r == ERR_OVERFLOW) {
		val_fail(e, 422, "BAD_AMOUNT", "amount is above 2^256-1");
		return r;
	}
	if (r != 0) {
		val_fail(e, 422, "BAD_AMOUNT", "amount: '%s' is not a string of "
		    "decimal digits in base units (no sign, point or exponent)",
		    q);
		return r;
	}
	if (u256_is_zero(out)) {
		val_fail(e, 422, "BAD_AMOUNT", "amount must be at least 1");
		return ERR_MALFORMED;
	}
	return 0;
}

int
val_payout_body(struct val_payout *out, struct val_err *e,
    const struct pol_policy *p, const uint8_t *body, size_t len)
{
	static const char *const names[] = { "request_id", "asset", "to",
	    "amount" };
	const char *id, *asset, *to;
	char q[QUOTE_MAX + 4];
	json_t *root = NULL;
	size_t idx;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = load_object(&root, e, body, len, names, ARRAY_LEN(names))) != 0)
		goto out;
	r = ERR_MALFORMED;
	/* Types first: a body of the wrong shape is a 400 as a whole. */
	if ((id = get_string(root, e, "request_id")) == NULL ||
	    (asset = get_string(root, e, "asset")) == NULL ||
	    (to = get_string(root, e, "to")) == NULL)
		goto out;
	if (!pol_id_ok(id, PRT_REQUEST_ID_MAX)) {
		val_fail(e, 422, "BAD_REQUEST_ID", "request_id must be 1..%d of "
		    "A-Z a-z 0-9 . _ : -", PRT_REQUEST_ID_MAX);
		goto out;
	}
	if (strnlen(asset, POL_ASSET_NAME_MAX + 1) > POL_ASSET_NAME_MAX ||
	    pol_asset_by_name(p, asset, &idx) != 0) {
		quote(q, asset);
		val_fail(e, 422, "UNKNOWN_ASSET", "asset: '%s' is not in the "
		    "policy", q);
		goto out;
	}
	out->asset = pol_asset(p, idx);
	if (check_to(out->intent.recipient, e, p, to) != 0 ||
	    check_amount(&out->intent.amount, e,
	    json_object_get(root, "amount")) != 0)
		goto out;
	memcpy(out->request_id, id, strlen(id) + 1);
	out->intent.asset = idx;
	memcpy(out->intent.asset_name, out->asset->name,
	    sizeof(out->intent.asset_name));
	out->intent.chain_id = out->asset->chain_id;
	evm_addr_to_str(out->to, out->intent.recipient);
	u256_to_dec(out->amount, sizeof(out->amount), &out->intent.amount);
	r = 0;
out:
	json_decref(root);
	if (r != 0)
		memset(out, 0, sizeof(*out));
	return r;
}

void
val_precheck(struct val_decision *out, const struct pol_policy *p,
    const struct val_payout *in)
{
	struct pol_stated stated;
	enum pol_reason why;
	u256 zero, total;
	char lim[U256_DEC_MAX];

	memset(out, 0, sizeof(*out));
	memset(&stated, 0, sizeof(stated));
	memcpy(stated.asset, in->intent.asset_name, sizeof(stated.asset));
	stated.chain_id = in->intent.chain_id;
	memcpy(stated.to, in->intent.recipient, EVM_ADDR_LEN);
	stated.amount = in->intent.amount;
	u256_from_u64(&zero, 0);
	/*
	 * Fees are not chosen yet (zero passes every cap) and nothing counts
	 * as signed today, so only the per-payout rules can refuse here: the
	 * day's limit is signerd's to judge when it signs.
	 */
	why = pol_check_sign(p, 0, &in->intent, &stated, &zero, &total);
	if (why != POL_OK) {
		out->status = PS_REJECTED;
		snprintf(out->reason_code, sizeof(out->reason_code), "%s",
		    pol_reason_name(why));
		if (why == POL_PER_TX_LIMIT) {
			u256_to_dec(lim, sizeof(lim), &in->asset->per_tx_limit);
			snprintf(out->reason, sizeof(out->reason), "amount is "
			    "above the %s per-transaction limit of %s",
			    in->asset->name, lim);
		} else if (why == POL_RECIPIENT_NOT_ALLOWED) {
			snprintf(out->reason, sizeof(out->reason), "%s is not "
			    "on the %s allowlist", in->to, in->asset->name);
		} else {
			snprintf(out->reason, sizeof(out->reason), "%s",
			    pol_reason_text(why));
		}
		return;
	}
	out->needs_timelock = pol_needs_timelock(p, &in->intent);
	if (pol_needs_approval(p, &in->intent)) {
		out->status = PS_PENDING_APPROVAL;
		out->approvals_required = (int)in->asset->approval_m;
	} else {
		out->status = PS_APPROVED;
	}
}

/* --- approvals and rejects ----------------------------------------------------- */

int
val_approval_body(struct pol_approval *out, struct val_err *e,
    const uint8_t *body, size_t len)
{
	static const char *const names[] = { "approver", "expiry",
	    "signature" };
	const char *approver, *sig;
	const json_t *expiry;
	json_t *root = NULL;
	size_t n;
	int r;

	memset(out, 0, sizeof(*out));
	if ((r = load_object(&root, e, body, len, names, ARRAY_LEN(names))) != 0)
		goto out;
	r = ERR_MALFORMED;
	expiry = json_object_get(root, "expiry");
	if ((approver = get_string(root, e, "approver")) == NULL ||
	    (sig = get_string(root, e, "signature")) == NULL)
		goto out;
	if (!json_is_integer(expiry)) {
		val_fail(e, 400, "BAD_REQUEST", "expiry must be a JSON integer "
		    "(unix seconds)");
		goto out;
	}
	if (!pol_id_ok(approver, POL_APPROVER_NAME_MAX)) {
		val_fail(e, 422, "BAD_APPROVER", "approver must be 1..%d of "
		    "A-Z a-z 0-9 . _ : -", POL_APPROVER_NAME_MAX);
		goto out;
	}
	if (json_integer_value(expiry) <= 0) {
		val_fail(e, 422, "APPROVAL_EXPIRED", "expiry %" JSON_INTEGER_FORMAT
		    " is in the past", json_integer_value(expiry));
		goto out;
	}
	if (util_hex_decode_var(out->sig, sizeof(out->sig), &n, sig) != 0 ||
	    n == 0) {
		val_fail(e, 422, "BAD_SIGNATURE", "signature must be 1..%d "
		    "bytes in hex", POL_APPROVAL_SIG_MAX);
		goto out;
	}
	memcpy(out->approver, approver, strlen(approver) + 1);
	out->expiry = (uint64_t)json_integer_value(expiry);
	out->sig_len = n;
	r = 0;
out:
	json_decref(root);
	if (r != 0)
		memset(out, 0, sizeof(*out));
	return r;
}

int
val_approval_lifetime(struct val_err *e, uint64_t expiry, uint64_t now,
    uint64_t max_seconds)
{
	if (expiry <= now || expiry - now <= max_seconds)
		return 0;
	val_fail(e, 422, "APPROVAL_EXPIRY_TOO_FAR", "expiry: %" PRIu64 " is "
	    "more than %" PRIu64 " s from now; sign an approval that expires "
	    "sooner", expiry, max_seconds);
	return ERR_TOO_LARGE;
}

int
val_reject_body(char reason[VAL_REASON_MAX + 1], struct val_err *e,
    const uint8_t *body, size_t len)
{
	static const char *const names[] = { "reason" };
	json_t *root = NULL;
	const char *s;
	size_t i;
	int r;

	reason[0] = '\0';
	if ((r = load_object(&root, e, body, len, names, ARRAY_LEN(names))) != 0)
		goto out;
	r = ERR_MALFORMED;
	if ((s = get_string(root, e, "reason")) == NULL)
		goto out;
	/* Printable ASCII only: it is shown to people and logged. */
	for (i = 0; s[i] != '\0'; i++)
		if (i >= VAL_REASON_MAX || s[i] < 0x20 || s[i] >= 0x7f)
			break;
	if (i == 0 || s[i] != '\0') {
		val_fail(e, 422, "BAD_REASON", "reason must be 1..%d printable "
		    "ASCII characters", VAL_REASON_MAX);
		goto out;
	}
	memcpy(reason, s, i + 1);
	r = 0;
out:
	json_decref(root);
	return r;
}

/* --- query values ------------------------------------------------------------ */

/* Canonical decimal 0..max: digits only, no leading zero but "0" itself. */
static int
parse_dec(int64_t *out, const char *s, int64_t max)
{
	int64_t v = 0;
	size_t i;

	*out = 0;
	if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0'))
		return ERR_MALFORMED;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9')
			return ERR_MALFORMED;
		if (v > (max - (s[i] - '0')) / 10)
			return ERR_OVERFLOW;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int
val_first(int *out, struct val_err *e, const char *s, int def, int max)
{
	int64_t v;

	*out = def;
	if (s == NULL)
		return 0;
	if (parse_dec(&v, s, max) != 0 || v < 1) {
		val_fail(e, 400, "BAD_REQUEST", "first must be an integer "
		    "1..%d", max);
		return ERR_MALFORMED;
	}
	*out = (int)v;
	return 0;
}

int
val_event_after(int64_t *out, struct val_err *e, const char *s)
{
	*out = 0;
	if (s == NULL)
		return 0;
	if (parse_dec(out, s, INT64_MAX) != 0) {
		val_fail(e, 400, "BAD_REQUEST", "after must be an event id "
		    "(a non-negative integer)");
		return ERR_MALFORMED;
	}
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date, year >= 1970. */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = y / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static unsigned
days_in_month(int64_t y, unsigned m)
{
	static const unsigned dim[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30,
	    31, 30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : dim[m - 1];
}

int
val_date(uint32_t *day, struct val_err *e, const char *s)
{
	unsigned y = 0, m, d;
	size_t i;

	*day = PRT_DATE_TODAY;
	if (s == NULL)
		return 0;
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		goto bad;
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			goto bad;
	for (i = 0; i < 4; i++)
		y = y * 10 + (unsigned)(s[i] - '0');
	m = (unsigned)(s[5] - '0') * 10 + (unsigned)(s[6] - '0');
	d = (unsigned)(s[8] - '0') * 10 + (unsigned)(s[9] - '0');
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		goto bad;
	*day = (uint32_t)days_from_civil(y, m, d);
	return 0;
bad:
	val_fail(e, 400, "BAD_DATE", "date must be a UTC day YYYY-MM-DD from "
	    "1970-01-01 on");
	return ERR_MALFORMED;
}

void
val_day_str(char out[VAL_DATE_STR], uint32_t day)
{
	int64_t z = (int64_t)day + 719468, era, doe, yoe, y, doy, mp, d, m;

	era = z / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	/* Days past 9999-12-31 do not come from val_date; keep 4 digits. */
	if (y > 9999)
		y = 9999;
	/* The moduli only tell the compiler the widths; values are in range. */
	snprintf(out, VAL_DATE_STR, "%04u-%02u-%02u", (unsigned)y % 10000u,
	    (unsigned)m % 100u, (unsigned)d % 100u);
}

int
val_asset(size_t *idx, struct val_err *e, const struct pol_policy *p,
    const char *s)
{
	char q[QUOTE_MAX + 4];

	*idx = SIZE_MAX;
	if (s == NULL) {
		val_fail(e, 400, "BAD_REQUEST", "missing query parameter "
		    "'asset'");
		return ERR_MALFORMED;
	}
	if (pol_asset_by_name(p, s, idx) != 0) {
		quote(q, s);
		val_fail(e, 422, "UNKNOWN_ASSET", "asset: '%s' is not in the "
		    "policy", q);
		return ERR_NOT_FOUND;
	}
	return 0;
}

/* --- cursors ------------------------------------------------------------------ */

#define CURSOR_PREFIX "c1:"
#define CURSOR_TEXT_MAX 24	/* "c1:" + 19 digits of INT64_MAX, and room */

static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int
b64_value(char ch)
{
	const char *p;

	if (ch == '\0' || (p = strchr(b64url, ch)) == NULL)
		return -1;
	return (int)(p - b64url);
}

int
val_cursor_encode(char *out, size_t cap, int64_t id)
{
	char text[CURSOR_TEXT_MAX];
	size_t n, i, o = 0;
	uint32_t v;
	int len;

	if (cap > 0)
		out[0] = '\0';
	if (id < 0 || cap < VAL_CURSOR_MAX)
		return ERR_INVALID_ARG;
	len = snprintf(text, sizeof(text), CURSOR_PREFIX "%" PRId64, id);
	if (len < 0 || (size_t)len >= sizeof(text))
		return ERR_INVALID_ARG;
	n = (size_t)len;
	for (i = 0; i < n; i += 3) {
		v = (uint32_t)(uint8_t)text[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)(uint8_t)text[i + 1] << 8;
		if (i + 2 < n)
			v |= (uint8_t)text[i + 2];
		out[o++] = b64url[(v >> 18) & 63];
		out[o++] = b64url[(v >> 12) & 63];
		if (i + 1 < n)
			out[o++] = b64url[(v >> 6) & 63];
		if (i + 2 < n)
			out[o++] = b64url[v & 63];
	}
	out[o] = '\0';
	return 0;
}

int
val_cursor_decode(int64_t *id, const char *s)
{
	uint8_t text[CURSOR_TEXT_MAX];
	size_t len, i, o = 0, k;
	uint32_t v;
	int x;

	*id = 0;
	len = strnlen(s, VAL_CURSOR_MAX);
	/* No padding, and a lone last character carries no whole byte. */
	if (len == 0 || len >= VAL_CURSOR_MAX || len % 4 == 1)
		return ERR_MALFORMED;
	for (i = 0; i < len; i += 4) {
		v = 0;
		for (k = 0; k < 4; k++) {
			if (i + k < len) {
				if ((x = b64_value(s[i + k])) < 0)
					return ERR_MALFORMED;
				v |= (uint32_t)x << (18 - 6 * k);
			}
		}
		k = len - i >= 4 ? 3 : len - i - 1;
		/*
		 * Bits past the last whole byte must be zero: otherwise
		 * several texts would name one cursor.
		 */
		if ((k == 1 && (v & 0xffff)) || (k == 2 && (v & 0xff)))
			return ERR_MALFORMED;
		if (o + k > sizeof(text) - 1)
			return ERR_MALFORMED;
		text[o++] = (uint8_t)(v >> 16);
		if (k > 1)
			text[o++] = (uint8_t)(v >> 8);
		if (k > 2)
			text[o++] = (uint8_t)v;
	}
	text[o] = '\0';
	if (o <= strlen(CURSOR_PREFIX) || memchr(text, '\0', o) != NULL ||
	    memcmp(text, CURSOR_PREFIX, strlen(CURSOR_PREFIX)) != 0 ||
	    parse_dec(id, (const char *)text + strlen(CURSOR_PREFIX),
	    INT64_MAX) != 0) {
		*id = 0;
		return ERR_MALFORMED;
	}
	return 0;
}
