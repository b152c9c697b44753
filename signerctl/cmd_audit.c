/* cmd_audit.c: `signerctl audit verify` and `audit show` over a journal directory, offline. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/pem.h>

#include "common/err.h"
#include "journal/journal.h"
#include "signerctl/cmd_audit.h"
#include "signerd/audit.h"

/* The same meanings as the rest of signerctl (ctl.h). */
#define AUDIT_EXIT_OK 0
#define AUDIT_EXIT_FAIL 1
#define AUDIT_EXIT_USAGE 2

/* Widest value printed in a table cell: a 0x-prefixed 32-byte hash. */
#define CELL_MAX 66
#define DETAILS_MAX 200

struct audit_opts {
	const char *journal;
	const char *archive;
	const char *threads;
	const char *pubkey;
	const char *receipts;
	const char *state_out;
	const char *since;
	int json;
	int chain_only;
	int policy;	/* show: the policy history only */
};

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: signerctl audit verify --journal DIR --pubkey PEMFILE "
	    "[--archive ADIR]\n"
	    "                              [--receipts FILE] [--state-out FILE]"
	    "\n"
	    "                              [--threads N] [--chain-only] "
	    "[--json]\n"
	    "       signerctl audit show --journal DIR "
	    "[--since RFC3339|SEQ] [--policy] [--json]\n\n"
	    "verify  check every segment, the hash chain, every checkpoint\n"
	    "        signature against the audit public key (PEM, EC P-256),\n"
	    "        and every record as signerd checks it at start-up; name\n"
	    "        the first bad record if any.  --receipts FILE: lines\n"
	    "        \"SEQ HASH\" (sign replies' receipts) that must all be in\n"
	    "        the journal, so a cut tail shows between checkpoints.\n"
	    "        --chain-only: only the chain, checkpoints and snapshots\n"
	    "        (a journal not written by signerd).  --state-out FILE:\n"
	    "        the state the replay rebuilt, as a snapshot of the head\n"
	    "        holds it (to compare with one).  --archive ADIR: the\n"
	    "        segments `signerctl journal archive` moved there come\n"
	    "        first in the chain (snapshots are DIR's).  --threads N\n"
	    "        (1..16, default 2): workers; 1 checks in one thread, the\n"
	    "        reference the others must agree with.\n"
	    "show    list the records (seq, ts, type, key fields), checking\n"
	    "        the chain on the way; --json prints the raw lines.\n"
	    "        --policy: the policy history only (the genesis and every\n"
	    "        proposal, approval, cancellation and activation, with the\n"
	    "        version each made); the same as `signerctl policy history`.\n\n"
	    "Exit status: 0 verified/listed, 1 verification failed or the "
	    "journal is unreadable, 2 wrong command line.\n");
}

static int
bad_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "signerctl: audit: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'signerctl audit --help'.\n");
	return AUDIT_EXIT_USAGE;
}

/*
 * Parses argv[2..] ("--opt VALUE", "--opt=VALUE", "--json").  with_key and
 * with_since say which options the verb takes.  Returns 0, -1 after --help,
 * or AUDIT_EXIT_USAGE.
 */
static int
parse(struct audit_opts *o, int argc, char **argv, int with_key,
    int with_since)
{
	const char *arg, *val, *eq;
	const char **slot;
	size_t nlen;
	int i;

	memset(o, 0, sizeof(*o));
	for (i = 2; i < argc; i++) {
		arg = argv[i];
		if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
			usage(stdout);
			return -1;
		}
		if (strcmp(arg, "--json") == 0) {
			o->json = 1;
			continue;
		}
		if (with_key && strcmp(arg, "--chain-only") == 0) {
			o->chain_only = 1;
			continue;
		}
		if (with_since && strcmp(arg, "--policy") == 0) {
			o->policy = 1;
			continue;
		}
		eq = strchr(arg, '=');
		nlen = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
		if (nlen == 9 && strncmp(arg, "--journal", nlen) == 0)
			slot = &o->journal;
		else if (with_key && nlen == 8 && strncmp(arg, "--pubkey",
		    nlen) == 0)
			slot = &o->pubkey;
		else if (with_key && nlen == 10 && strncmp(arg, "--receipts",
		    nlen) == 0)
			slot = &o->receipts;
		else if (with_key && nlen == 9 && strncmp(arg, "--archive",
		    nlen) == 0)
			slot = &o->archive;
		else if (with_key && nlen == 9 && strncmp(arg, "--threads",
		    nlen) == 0)
			slot = &o->threads;
		else if (with_key && nlen == 11 && strncmp(arg, "--state-out",
		    nlen) == 0)
			slot = &o->state_out;
		else if (with_since && nlen == 7 && strncmp(arg, "--since",
		    nlen) == 0)
			slot = &o->since;
		else
			return bad_usage("unknown option %.*s for %s",
			    (int)nlen, arg, argv[1]);
		if (eq != NULL)
			val = eq + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		else
			return bad_usage("%s needs a value", arg);
		if (*slot != NULL)
			return bad_usage("%.*s given twice", (int)nlen, arg);
		if (val[0] == '\0')
			return bad_usage("%.*s is empty", (int)nlen, arg);
		*slot = val;
	}
	if (o->journal == NULL)
		return bad_usage("%s needs --journal DIR", argv[1]);
	if (with_key && o->pubkey == NULL)
		return bad_usage("verify needs --pubkey PEMFILE (the audit "
		    "public key)");
	return 0;
}

EVP_PKEY *
ctl_load_audit_pubkey(const char *path, const char *who)
{
	EVP_PKEY *k;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "signerctl: %s: %s: %s\n", who, path,
		    strerror(errno));
		return NULL;
	}
	k = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	if (k == NULL)
		fprintf(stderr, "signerctl: %s: %s holds no PEM public key\n",
		    who, path);
	return k;
}

static json_t *
error_json(const struct jnl_error *e)
{
	return json_pack("{s:s, s:s, s:I, s:I, s:s}", "code",
	    err_name(e->code), "segment", e->segment, "offset",
	    (json_int_t)e->offset, "seq", (json_int_t)e->seq, "reason",
	    e->reason);
}

static int
print_verify_json(const struct jnl_verify_result *res, const char *dir)
{
	json_t *o;
	int r = AUDIT_EXIT_FAIL;

	o = json_pack("{s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:s, s:I, "
	    "s:I}", "journal", dir, "ok", res->ok,
	    "segments", (json_int_t)res->segments,
	    "records", (json_int_t)res->records,
	    "checkpoints", (json_int_t)res->checkpoints,
	    "snapshots", (json_int_t)res->snapshots,
	    "snapshots_corrupt", (json_int_t)res->snapshots_corrupt,
	    "head_seq", (json_int_t)res->head_seq,
	    "head", res->head_hex,
	    "signed_seq", (json_int_t)res->signed_seq,
	    "torn_bytes", (json_int_t)res->torn_bytes);
	if (o == NULL)
		goto out;
	if (!res->ok && json_object_set_new(o, "error",
	    error_json(&res->err)) != 0)
		goto out;
	if (json_dumpf(o, stdout, JSON_INDENT(2)) == 0 && putchar('\n') != EOF)
		r = AUDIT_EXIT_OK;
out:
	json_decref(o);
	return r;
}

static void
print_verify_text(const struct jnl_verify_result *res, const char *dir)
{
	char where[512];

	if (!res->ok) {
		printf("journal %s: FAILED verification\n", dir);
		printf("  first bad record: %s\n", jnl_error_format(where,
		    sizeof(where), &res->err));
		printf("  (%s)\n", err_str(res->err.code));
		printf("  verified before it: %llu records, %llu checkpoint "
		    "signatures, up to seq %llu\n",
		    (unsigned long long)res->records,
		    (unsigned long long)res->checkpoints,
		    (unsigned long long)res->head_seq);
		return;
	}
	printf("journal %s: OK\n", dir);
	printf("  segments %llu, records %llu, checkpoint signatures %llu, "
	    "snapshots %llu\n", (unsigned long long)res->segments,
	    (unsigned long long)res->records,
	    (unsigned long long)res->checkpoints,
	    (unsigned long long)res->snapshots);
	printf("  head seq %llu sha256 %s\n",
	    (unsigned long long)res->head_seq, res->head_hex);
	if (res->signed_seq == 0)
		printf("  WARNING: no checkpoint: nothing is signed by the "
		    "audit key\n");
	else
		printf("  signed by the audit key up to seq %llu; %llu "
		    "record(s) after it are covered by the chain only\n",
		    (unsigned long long)res->signed_seq,
		    (unsigned long long)(res->head_seq - res->signed_seq));
	if (res->snapshots_corrupt > 0)
		printf("  WARNING: %llu snapshot file(s) fail their checksum "
		    "(signerd falls back to an older one)\n",
		    (unsigned long long)res->snapshots_corrupt);
	if (res->torn_bytes > 0)
		printf("  note: %llu byte(s) after the last complete line: a "
		    "write cut short by a crash, never acknowledged\n",
		    (unsigned long long)res->torn_bytes);
}

/* One receipt: a record's seq and hash as a sign reply gave them. */
struct receipt {
	uint64_t seq;
	uint8_t hash[32];
	unsigned line;
};

static int
receipt_cmp(const void *a, const void *b)
{
	const struct receipt *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * Reads FILE: one "SEQ HASH" per line (HASH 64 hex digits, optionally
 * 0x-prefixed), blank lines and # comments ignored.  Prints the first bad
 * line.  Returns 0 or -1.
 */
static int
load_receipts(struct receipt **out, size_t *n, const char *path)
{
	char line[256], hex[80], *end, extra;
	struct receipt *v = NULL, *nv;
	unsigned long long seq;
	size_t cap = 0;
	unsigned no = 0;
	const char *h;
	FILE *f;

	*out = NULL;
	*n = 0;
	if ((f = fopen(path, "r")) == NULL) {
		perror(path);
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		no++;
		if (line[0] == '#' || strspn(line, " \t\r\n") == strlen(line))
			continue;
		if (line[0] < '1' || line[0] > '9' ||
		    (seq = strtoull(line, &end, 10)) == 0 ||
		    sscanf(end, " %79s %c", hex, &extra) != 1) {
			fprintf(stderr, "signerctl: audit verify: %s:%u: not "
			    "\"SEQ HASH\"\n", path, no);
			goto fail;
		}
		h = strncmp(hex, "0x", 2) == 0 ? hex + 2 : hex;
		if (*n == cap) {
			cap = cap ? 2 * cap : 64;
			if ((nv = realloc(v, cap * sizeof(*v))) == NULL)
				goto fail;
			v = nv;
		}
		if (strlen(h) != 64 || util_hex_decode(v[*n].hash, 32, h) != 0) {
			fprintf(stderr, "signerctl: audit verify: %s:%u: the "
			    "hash is not 64 hex digits\n", path, no);
			goto fail;
		}
		v[*n].seq = seq;
		v[*n].line = no;
		(*n)++;
	}
	fclose(f);
	qsort(v, *n, sizeof(*v), receipt_cmp);
	*out = v;
	return 0;
fail:
	fclose(f);
	free(v);
	*n = 0;
	return -1;
}

/* The receipts and how far the verified records have matched them. */
struct receipts {
	struct receipt *v;
	size_t n;
	size_t next;		/* first receipt not yet met */
	const struct receipt *bad;	/* first whose record has another hash */
};

/* sd_audit_each_fn: records arrive in seq order. */
static void
receipts_see(void *ctx, uint64_t seq, const uint8_t hash[32])
{
	struct receipts *rc = ctx;

	for (; rc->next < rc->n && rc->v[rc->next].seq <= seq; rc->next++)
		if (rc->bad == NULL && (rc->v[rc->next].seq < seq ||
		    memcmp(rc->v[rc->next].hash, hash, 32) != 0))
			rc->bad = &rc->v[rc->next];
}

/*
 * Every receipt names a record the journal holds, with that hash: a
 * journal cut or rewritten after a sign reply fails here even between
 * checkpoints.  Prints the first that does not.  Returns 0 or -1.
 */
static int
receipts_report(const struct receipts *rc, const char *path)
{
	if (rc->bad != NULL) {
		printf("  receipt %s:%u: record %llu has another hash: the "
		    "journal was rewritten\n", path, rc->bad->line,
		    (unsigned long long)rc->bad->seq);
		return -1;
	}
	if (rc->next < rc->n) {
		printf("  receipt %s:%u: record %llu is not in the journal: its "
		    "tail was cut\n", path, rc->v[rc->next].line,
		    (unsigned long long)rc->v[rc->next].seq);
		return -1;
	}
	printf("  receipts: all %zu found in the journal\n", rc->n);
	return 0;
}

/* --threads: 1..JNL_VERIFY_THREADS_MAX, decimal. */
static int
parse_threads(unsigned *out, const char *s)
{
	unsigned long v;
	char *end;

	*out = 0;
	if (s == NULL)
		return 0;
	if (s[0] < '1' || s[0] > '9' || strlen(s) > 2)
		return -1;
	v = strtoul(s, &end, 10);
	if (*end != '\0' || v > JNL_VERIFY_THREADS_MAX)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static int
audit_verify(int argc, char **argv)
{
	struct jnl_verify_result res;
	struct sd_audit_opts ao;
	struct receipts rc;
	struct audit_opts o;
	EVP_PKEY *key = NULL;
	int r;

	if ((r = parse(&o, argc, argv, 1, 0)) != 0)
		return r < 0 ? AUDIT_EXIT_OK : r;
	memset(&ao, 0, sizeof(ao));
	memset(&rc, 0, sizeof(rc));
	if (parse_threads(&ao.threads, o.threads) != 0)
		return bad_usage("--threads takes 1..%d", JNL_VERIFY_THREADS_MAX);
	if (o.receipts != NULL && load_receipts(&rc.v, &rc.n, o.receipts) != 0)
		return AUDIT_EXIT_FAIL;
	if ((key = ctl_load_audit_pubkey(o.pubkey, "audit verify")) == NULL) {
		free(rc.v);
		return AUDIT_EXIT_FAIL;
	}
	/* The same checks signerd's start-up makes (signerd/replay.c);
	 * --chain-only: the journal layer alone, for journals that other
	 * writers than signerd made.  Receipts are matched on the way. */
	ao.archive = o.archive;
	ao.journal = o.journal;
	ao.audit_pub = key;
	ao.state_out = o.state_out;
	ao.chain_only = o.chain_only;
	if (o.receipts != NULL) {
		ao.each = receipts_see;
		ao.each_ctx = &rc;
	}
	r = sd_audit_run(&ao, &res);
	EVP_PKEY_free(key);
	if (o.json) {
		if (print_verify_json(&res, o.journal) != AUDIT_EXIT_OK)
			r = ERR_IO;
	} else {
		print_verify_text(&res, o.journal);
	}
	if (r == 0 && res.ok && o.receipts != NULL &&
	    receipts_report(&rc, o.receipts) != 0)
		r = ERR_MALFORMED;
	free(rc.v);
	return r != 0 || !res.ok ? AUDIT_EXIT_FAIL : AUDIT_EXIT_OK;
}

/* Reads exactly n digits at *s into *v and advances *s. */
static int
digits(const char **s, int n, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if ((*s)[i] < '0' || (*s)[i] > '9')
			return -1;
		*v = *v * 10 + ((*s)[i] - '0');
	}
	*s += n;
	return 0;
}

/*
 * RFC 3339 ("2026-11-22T10:00:00Z", "...:00.250+01:00") or a date alone
 * ("2026-11-22", midnight UTC) to UTC seconds and nanoseconds.
 */
static int
parse_time(const char *s, long long *sec, long *nsec)
{
	struct tm tm;
	int v, sign, oh, om;
	long scale = 100000000;

	memset(&tm, 0, sizeof(tm));
	*sec = 0;
	*nsec = 0;
	if (digits(&s, 4, &v) != 0 || *s++ != '-')
		return -1;
	tm.tm_year = v - 1900;
	if (digits(&s, 2, &v) != 0 || v < 1 || v > 12 || *s++ != '-')
		return -1;
	tm.tm_mon = v - 1;
	if (digits(&s, 2, &v) != 0 || v < 1 || v > 31)
		return -1;
	tm.tm_mday = v;
	if (*s == '\0') {
		*sec = (long long)timegm(&tm);
		return 0;
	}
	if (*s != 'T' && *s != 't' && *s != ' ')
		return -1;
	s++;
	if (digits(&s, 2, &tm.tm_hour) != 0 || tm.tm_hour > 23 ||
	    *s++ != ':' || digits(&s, 2, &tm.tm_min) != 0 || tm.tm_min > 59 ||
	    *s++ != ':' || digits(&s, 2, &tm.tm_sec) != 0 || tm.tm_sec > 60)
		return -1;
	if (*s == '.') {
		s++;
		if (*s < '0' || *s > '9')
			return -1;
		for (; *s >= '0' && *s <= '9'; s++, scale /= 10)
			*nsec += (*s - '0') * scale;
	}
	*sec = (long long)timegm(&tm);
	if (*s == 'Z' || *s == 'z')
		return s[1] == '\0' ? 0 : -1;
	if (*s != '+' && *s != '-')
		return -1;
	sign = *s++ == '+' ? 1 : -1;
	if (digits(&s, 2, &oh) != 0 || *s++ != ':' ||
	    digits(&s, 2, &om) != 0 || *s != '\0' || oh > 23 || om > 59)
		return -1;
	*sec -= sign * (oh * 3600LL + om * 60LL);
	return 0;
}

/* --since: a seq (all digits) or a time. */
struct since {
	int by_seq;
	unsigned long long seq;
	long long sec;
	long nsec;
};

static int
parse_since(struct since *sn, const char *s)
{
	char *end;

	memset(sn, 0, sizeof(*sn));
	if (s == NULL)
		return 0;
	if (strspn(s, "0123456789") == strlen(s)) {
		sn->by_seq = 1;
		sn->seq = strtoull(s, &end, 10);
		return 0;
	}
	return parse_time(s, &sn->sec, &sn->nsec);
}

static int
shown(const struct since *sn, const char *since, const struct jnl_record *rec)
{
	const char *ts;
	long long sec;
	long nsec;

	if (since == NULL)
		return 1;
	if (sn->by_seq)
		return rec->seq >= sn->seq;
	/* A record without a readable time cannot be placed after it. */
	ts = json_string_value(json_object_get(rec->json, "ts"));
	if (ts == NULL || parse_time(ts, &sec, &nsec) != 0)
		return 0;
	return sec > sn->sec || (sec == sn->sec && nsec >= sn->nsec);
}

/* Appends "key=value" for one field to a details cell. */
static void
add_detail(char *out, size_t cap, const char *key, const json_t *v)
{
	char val[CELL_MAX + 4];
	size_t o = strlen(out);
	char *s;

	switch (json_typeof(v)) {
	case JSON_STRING:
		snprintf(val, sizeof(val), "%s", json_string_value(v));
		if (json_string_length(v) > CELL_MAX)
			memcpy(val + CELL_MAX - 3, "...", 4);
		/* One record, one line: a journaled string may hold newlines
		 * or terminal controls (the genesis policy text does). */
		for (s = val; *s != '\0'; s++)
			if ((unsigned char)*s < 0x20 || *s == 0x7f)
				*s = ' ';
		break;
	case JSON_INTEGER:
	case JSON_REAL:
	case JSON_TRUE:
	case JSON_FALSE:
	case JSON_NULL:
		s = json_dumps(v, JSON_ENCODE_ANY);
		snprintf(val, sizeof(val), "%s", s != NULL ? s : "?");
		free(s);
		break;
	case JSON_OBJECT:
		snprintf(val, sizeof(val), "{%zu fields}", json_object_size(v));
		break;
	case JSON_ARRAY:
		snprintf(val, sizeof(val), "[%zu items]", json_array_size(v));
		break;
	}
	if (o < cap)
		snprintf(out + o, cap - o, "%s%s=%s", o > 0 ? " " : "", key,
		    val);
}

static void
print_row(const struct jnl_record *rec)
{
	char details[DETAILS_MAX + 1] = "";
	const char *type, *ts, *key;
	json_t *v;

	type = json_string_value(json_object_get(rec->json, "type"));
	ts = json_string_value(json_object_get(rec->json, "ts"));
	json_object_foreach(rec->json, key, v) {
		/* The prefix and the columns; a checkpoint's msg repeats
		 * head_seq and head, and its sig means nothing to read. */
		if (strcmp(key, "prev") == 0 || strcmp(key, "seq") == 0 ||
		    strcmp(key, "type") == 0 || strcmp(key, "ts") == 0 ||
		    (strcmp(type, "checkpoint") == 0 &&
		    (strcmp(key, "msg") == 0 || strcmp(key, "sig") == 0)))
			continue;
		add_detail(details, sizeof(details), key, v);
	}
	if (strlen(details) == DETAILS_MAX)
		memcpy(details + DETAILS_MAX - 3, "...", 3);
	printf("%-8llu %-24s %-12s %s\n", (unsigned long long)rec->seq,
	    ts != NULL ? ts : "-", type, details);
}

/* A record of the policy history: the genesis and the four policy_ types. */
static int
is_policy_record(const char *type)
{
	return type != NULL && (strcmp(type, "genesis") == 0 ||
	    strncmp(type, "policy_", 7) == 0);
}

static const char *
rec_str(const json_t *rec, const char *key)
{
	const char *v = json_string_value(json_object_get(rec, key));

	return v != NULL ? v : "";
}

/*
 * One line (or JSON object) of the policy history.  *version counts the
 * versions: 1 at genesis, the activation's own number after that.
 */
static void
print_policy_row(const struct jnl_record *rec, int json, unsigned *version)
{
	const char *type = rec_str(rec->json, "type"), *hash, *id;
	const json_t *aps = json_object_get(rec->json, "approvals"), *a;
	char who[200] = "", event[24];
	json_t *o, *names;
	size_t i, off = 0;

	if (strcmp(type, "genesis") == 0) {
		*version = 1;
		hash = rec_str(rec->json, "policy");
	} else {
		hash = rec_str(rec->json, "proposal");
	}
	if (strcmp(type, "policy_activated") == 0)
		*version = (unsigned)strtoul(rec_str(rec->json, "version"),
		    NULL, 10);
	snprintf(event, sizeof(event), "%s", strcmp(type, "genesis") == 0 ?
	    "genesis" : type + 7);
	id = rec_str(rec->json, "policy_id");
	names = json_array();
	json_array_foreach(aps, i, a) {
		json_array_append_new(names, json_string(rec_str(a,
		    "approver")));
		if (off < sizeof(who))
			off += (size_t)snprintf(who + off, sizeof(who) - off,
			    "%s%s", off ? "," : "", rec_str(a, "approver"));
	}
	if (json) {
		o = json_pack("{s:I, s:s, s:s, s:I, s:s, s:s, s:s, s:o}",
		    "seq", (json_int_t)rec->seq, "ts", rec_str(rec->json, "ts"),
		    "event", event, "version", (json_int_t)*version,
		    "policy_id", id, "hash", hash, "change",
		    rec_str(rec->json, "change"), "approvers", names);
		if (o != NULL) {
			json_dumpf(o, stdout, JSON_COMPACT);
			printf("\n");
		}
		json_decref(o);
		return;
	}
	json_decref(names);
	printf("%-8llu %-24s %-10s %-7u %-16.16s %-24s %s%s%s\n",
	    (unsigned long long)rec->seq, rec_str(rec->json, "ts"), event,
	    *version, hash, id[0] ? id : "-", rec_str(rec->json, "change"),
	    who[0] && rec_str(rec->json, "change")[0] ? " " : "", who);
}

static int
audit_show(int argc, char **argv)
{
	struct jnl_reader *rd = NULL;
	struct jnl_record rec;
	struct audit_opts o;
	struct jnl_error e;
	struct since sn;
	char where[512];
	unsigned version = 0;
	int r, n = 0;

	if ((r = parse(&o, argc, argv, 0, 1)) != 0)
		return r < 0 ? AUDIT_EXIT_OK : r;
	if (parse_since(&sn, o.since) != 0)
		return bad_usage("--since wants a seq or an RFC 3339 time "
		    "(2026-11-22T10:00:00Z), not '%s'", o.since);
	if ((r = jnl_reader_open(&rd, &e, o.journal)) != 0) {
		fprintf(stderr, "signerctl: audit show: %s: %s\n",
		    jnl_error_format(where, sizeof(where), &e), err_str(r));
		return AUDIT_EXIT_FAIL;
	}
	if (!o.json && o.policy)
		printf("%-8s %-24s %-10s %-7s %-16s %-24s %s\n", "SEQ", "TS",
		    "EVENT", "VERSION", "HASH", "POLICY_ID", "CHANGE/APPROVERS");
	else if (!o.json)
		printf("%-8s %-24s %-12s %s\n", "SEQ", "TS", "TYPE", "DETAILS");
	while ((r = jnl_reader_next(rd, &rec, &e)) == 1) {
		if (o.policy) {
			if (!is_policy_record(json_string_value(
			    json_object_get(rec.json, "type"))))
				continue;
			/* Versions count from genesis: --since only hides. */
			if (!shown(&sn, o.since, &rec)) {
				if (strcmp(rec_str(rec.json, "type"),
				    "policy_activated") == 0)
					version = (unsigned)strtoul(rec_str(
					    rec.json, "version"), NULL, 10);
				continue;
			}
			n++;
			print_policy_row(&rec, o.json, &version);
			continue;
		}
		if (!shown(&sn, o.since, &rec))
			continue;
		n++;
		if (o.json)
			printf("%.*s\n", (int)rec.len, rec.line);
		else
			print_row(&rec);
	}
	jnl_reader_close(rd);
	if (fflush(stdout) != 0)
		return AUDIT_EXIT_FAIL;
	/* The records before the break were listed; the break is the news. */
	if (r < 0) {
		fprintf(stderr, "signerctl: audit show: stopped at the first "
		    "bad record: %s\n", jnl_error_format(where, sizeof(where),
		    &e));
		return AUDIT_EXIT_FAIL;
	}
	if (!o.json)
		fprintf(stderr, "%d record(s)\n", n);
	return AUDIT_EXIT_OK;
}

int
cmd_audit(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return AUDIT_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return AUDIT_EXIT_OK;
	}
	if (strcmp(argv[1], "verify") == 0)
		return audit_verify(argc, argv);
	if (strcmp(argv[1], "show") == 0)
		return audit_show(argc, argv);
	return bad_usage("unknown command '%s'", argv[1]);
}
