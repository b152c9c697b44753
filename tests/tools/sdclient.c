/*
 * sdclient.c: test and benchmark client for signerd (not shipped).
 *   sdclient mktx  --chain-id N --nonce N --to ADDR (--value WEI |
 *                  --token CONTRACT --token-amount N) [--max-fee W]
 *                  [--prio-fee W] [--gas N]            unsigned tx hex
 *                  [--data HEX] [--create] [--access-list ADDR]
 *                  [--signed]     shapes policy must refuse: raw calldata,
 *                  no recipient, an access list entry, the signed form
 *                  (and --value with --token: value on a token transfer)
 *   sdclient raw   --socket URL HEX                    send raw frame
 *   sdclient load  --socket URL --threads T --count N --asset A
 *                  --chain-id C --to ADDR --amount X [--token CONTRACT]
 *                  [--id-prefix P] [--nonce-base B] [--first-id K]
 *                  [--stated-amount X] [--stated-to ADDR] [--timeout-ms N]
 *                  [--receipts] [--from ADDR] [--created-day N]
 * load prints "SIGNED <request_id> <tx_hash>" the moment each signature
 * arrives (so a crash test knows what clients received), "REFUSED <id>
 * <reason>" for refusals, and a summary line with latency percentiles.
 * With --receipts each SIGNED line is followed by "RECEIPT <seq> <hash>
 * <request_id> <unix_us>": the reply's receipt (the journal record that
 * authorized it) and the wall-clock time the reply arrived, in
 * microseconds, so a test can order replies against other events.
 * Each request names as from the address --from gives, else the address
 * of the asset's key in signerd's policy in force (POLICY and STATUS),
 * else (an asset or key signerd lacks) zero: signerd then says why.
 * Each request names as created day (protocol 4) --created-day N (days
 * since 1970-01-01, 1..4294967295), else today's UTC day by this host.
 */
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "evm/addr.h"
#include "evm/erc20.h"
#include "evm/rlp.h"
#include "evm/tx.h"
#include "policy/policy.h"
#include "proto/client.h"
#include "proto/msg.h"

struct args {
	const char *socket, *to, *token, *id_prefix, *asset, *value,
	    *token_amount, *amount, *max_fee, *prio_fee;
	/* What the request claims, when a test wants it to disagree with
	 * the transaction. */
	const char *stated_amount, *stated_to;
	/* The sender the requests name: --from, or the asset's key. */
	const char *from;
	uint8_t from_addr[20];
	uint32_t created_day;	/* --created-day, else today (UTC) */
	/* mktx only: transactions no payout should be. */
	const char *data, *access_list;
	int create, sign_form, receipts;
	uint64_t chain_id, nonce, gas, nonce_base, first_id;
	int threads, count, timeout_ms;
};

static struct args A = {
	.id_prefix = "req", .max_fee = "2000000000", .prio_fee = "1000000000",
	.gas = 21000, .threads = 1, .count = 1, .chain_id = 1337,
	.timeout_ms = 30000,
};
static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_int next_job;
static atomic_int n_ok, n_refused, n_error;
static double *latencies;

static void
die(const char *what, int r)
{
	fprintf(stderr, "sdclient: %s: %s %s\n", what, err_str(r),
	    prt_client_last_error());
	exit(1);
}

static void
parse_addr(uint8_t out[20], const char *s)
{
	if (s == NULL || evm_addr_from_str(out, s, 1) != 0)
		die("bad address", ERR_MALFORMED);
}

static void
parse_u256(u256 *out, const char *s)
{
	if (s == NULL || u256_from_dec(out, s) != 0)
		die("bad amount", ERR_MALFORMED);
}

/* Builds the unsigned tx for (nonce, recipient, amount) into w. */
static void
build_tx(struct prt_writer *w, uint64_t nonce, const uint8_t to[20],
    const u256 *amount)
{
	struct evm_tx tx;

	memset(&tx, 0, sizeof(tx));
	tx.chain_id = A.chain_id;
	tx.nonce = nonce;
	parse_u256(&tx.max_fee_per_gas, A.max_fee);
	parse_u256(&tx.max_priority_fee_per_gas, A.prio_fee);
	tx.gas_limit = A.gas;
	tx.has_to = 1;
	if (A.token != NULL) {
		parse_addr(tx.to, A.token);
		erc20_transfer_encode(tx.data, to, amount);
		tx.data_len = ERC20_TRANSFER_LEN;
	} else {
		memcpy(tx.to, to, 20);
		tx.value = *amount;
	}
	if (evm_tx_encode(w, &tx) != 0)
		die("encode", ERR_INTERNAL);
}

static long long
wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void *
load_worker(void *arg)
{
	struct prt_client *c = arg;
	struct prt_sign_req *req = calloc(1, sizeof(*req));
	struct prt_sign_rep *rep = calloc(1, sizeof(*rep));
	struct prt_reply_hdr hdr;
	struct prt_writer w;
	char hash[67], rhash[65];
	long long arrived;
	uint8_t to[20];
	u256 amount;
	double t0;
	int i, r;

	if (req == NULL || rep == NULL)
		die("calloc", ERR_NOMEM);
	parse_addr(to, A.to);
	parse_u256(&amount, A.amount);
	while ((i = atomic_fetch_add(&next_job, 1)) < A.count) {
		memset(req, 0, sizeof(*req));
		snprintf(req->request_id, sizeof(req->request_id), "%s-%llu",
		    A.id_prefix, (unsigned long long)(A.first_id + (uint64_t)i));
		snprintf(req->asset, sizeof(req->asset), "%s", A.asset);
		req->chain_id = A.chain_id;
		memcpy(req->from, A.from_addr, 20);
		req->created_day = A.created_day;
		memcpy(req->to, to, 20);
		req->amount = amount;
		if (A.stated_to != NULL)
			parse_addr(req->to, A.stated_to);
		if (A.stated_amount != NULL)
			parse_u256(&req->amount, A.stated_amount);
		prt_writer_init(&w, PRT_TX_MAX);
		build_tx(&w, A.nonce_base + (uint64_t)i, to, &amount);
		memcpy(req->tx, w.p, w.len);
		req->tx_len = w.len;
		prt_writer_free(&w);

		t0 = now_ms();
		r = prt_client_sign(c, req, rep, &hdr);
		arrived = wall_us();
		latencies[i] = now_ms() - t0;
		pthread_mutex_lock(&out_mu);
		if (r != 0) {
			atomic_fetch_add(&n_error, 1);
			printf("ERROR %s %s\n", req->request_id, err_str(r));
		} else if (hdr.result != 0) {
			atomic_fetch_add(&n_refused, 1);
			printf("REFUSED %s %s\n", req->request_id,
			    pol_reason_name(hdr.result));
		} else {
			atomic_fetch_add(&n_ok, 1);
			hash[0] = '0';
			hash[1] = 'x';
			util_hex_encode(hash + 2, rep->tx_hash, 32);
			printf("SIGNED %s %s\n", req->request_id, hash);
			if (A.receipts) {
				util_hex_encode(rhash, rep->receipt_hash, 32);
				printf("RECEIPT %llu %s %s %lld\n",
				    (unsigned long long)rep->receipt_seq, rhash,
				    req->request_id, arrived);
			}
		}
		fflush(stdout);
		pthread_mutex_unlock(&out_mu);
	}
	free(req);
	free(rep);
	return NULL;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * The address of --asset's key in signerd's policy in force, into
 * A.from_addr: the key's name from POLICY, its address from STATUS, both
 * of one version.  Two requests more than --count: a test that counts
 * frames (a peer signerd refuses) passes --from.  Left zero, with a note
 * on stderr, when signerd does not say (the requests then tell why) or
 * lacks the asset or its key.
 */
static void
asset_sender(struct prt_client *c)
{
	struct prt_status_rep *st = calloc(1, sizeof(*st));
	struct pol_policy *pol = NULL;
	struct prt_reply_hdr hdr;
	char *json = NULL, err[256];
	const char *key;
	size_t len, i;
	int r;

	if (st == NULL)
		die("calloc", ERR_NOMEM);
	if ((r = prt_client_policy(c, &json, &len, &hdr)) == 0 &&
	    hdr.result == 0)
		r = prt_client_status(c, st, &hdr);
	if (r != 0 || hdr.result != 0)
		fprintf(stderr, "sdclient: no sender from signerd: %s\n",
		    r != 0 ? err_str(r) : hdr.message);
	else if (pol_parse(&pol, (const uint8_t *)json, len, err,
	    sizeof(err)) != 0)
		fprintf(stderr, "sdclient: signerd's policy: %s\n", err);
	else if (memcmp(pol_hash(pol), st->policy_hash, 32) != 0)
		fprintf(stderr, "sdclient: a policy version took effect "
		    "between POLICY and STATUS\n");
	else if (pol_asset_by_name(pol, A.asset, &i) == 0) {
		key = pol_asset(pol, i)->key;
		for (i = 0; i < st->nkeys; i++)
			if (strcmp(st->keys[i].name, key) == 0)
				memcpy(A.from_addr, st->keys[i].address, 20);
	}
	pol_free(pol);
	free(json);
	free(st);
}

/*
 * --created-day N: decimal digits only, 1..UINT32_MAX (the wire's u32,
 * 0 refused by the codec); a test may name any day signerd must judge.
 */
static uint32_t
parse_created_day(const char *s)
{
	uint64_t v = 0;
	size_t i;
	int bad = s[0] == '\0';

	for (i = 0; s[i] != '\0' && !bad; i++) {
		bad = s[i] < '0' || s[i] > '9' || i >= 10;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (bad || v == 0 || v > UINT32_MAX)
		die("--created-day must be 1..4294967295", ERR_INVALID_ARG);
	return (uint32_t)v;
}

/* Today's UTC day by this host's clock, as signerd counts days. */
static uint32_t
today_utc_day(void)
{
	int64_t d = pol_utc_day((int64_t)time(NULL));

	if (d < 1 || d > (int64_t)UINT32_MAX)
		die("the clock gives no day in 1..4294967295", ERR_INTERNAL);
	return (uint32_t)d;
}

static int
run_load(void)
{
	struct prt_client *c;
	pthread_t *th;
	double t0, secs;
	int i, r;

	if (A.socket == NULL || A.asset == NULL || A.to == NULL ||
	    A.amount == NULL || A.threads < 1 || A.count < 1)
		die("load needs --socket --asset --to --amount", ERR_INVALID_ARG);
	if (A.created_day == 0)
		A.created_day = today_utc_day();
	if ((r = prt_client_open(&c, A.socket, A.timeout_ms)) != 0)
		die("connect", r);
	if (A.from != NULL)
		parse_addr(A.from_addr, A.from);
	else
		asset_sender(c);
	th = calloc((size_t)A.threads, sizeof(*th));
	latencies = calloc((size_t)A.count, sizeof(*latencies));
	if (th == NULL || latencies == NULL)
		die("calloc", ERR_NOMEM);
	t0 = now_ms();
	for (i = 0; i < A.threads; i++)
		pthread_create(&th[i], NULL, load_worker, c);
	for (i = 0; i < A.threads; i++)
		pthread_join(th[i], NULL);
	secs = (now_ms() - t0) / 1e3;
	qsort(latencies, (size_t)A.count, sizeof(double), cmp_double);
	printf("SUMMARY ok=%d refused=%d errors=%d seconds=%.3f rate=%.1f "
	    "p50_ms=%.3f p99_ms=%.3f\n", atomic_load(&n_ok),
	    atomic_load(&n_refused), atomic_load(&n_error), secs,
	    A.count / secs, latencies[A.count / 2],
	    latencies[(A.count * 99) / 100 < A.count ?
	    (A.count * 99) / 100 : A.count - 1]);
	prt_client_close(c);
	free(th);
	free(latencies);
	return atomic_load(&n_error) == 0 ? 0 : 1;
}

/* "@FILE" reads the hex from FILE: frames too large for one argv string. */
static char *
load_hex(const char *arg)
{
	FILE *f;
	char *buf;
	long n;

	if (arg[0] != '@')
		return strdup(arg);
	if ((f = fopen(arg + 1, "r")) == NULL || fseek(f, 0, SEEK_END) != 0 ||
	    (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
	    (buf = calloc(1, (size_t)n + 1)) == NULL ||
	    fread(buf, 1, (size_t)n, f) != (size_t)n)
		die("cannot read hex file", ERR_IO);
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

static int
run_raw(const char *arg)
{
	char *hex = load_hex(arg), msg[PRT_MESSAGE_MAX + 1];
	struct prt_client *c;
	struct prt_reader rd;
	uint8_t *buf, *rep = NULL;
	const uint8_t *skip;
	uint32_t result;
	size_t len, rlen;
	int r;

	if (hex == NULL || (buf = malloc(strlen(hex) / 2 + 1)) == NULL)
		die("malloc", ERR_NOMEM);
	if (util_hex_decode_var(buf, strlen(hex) / 2 + 1, &len, hex) != 0)
		die("bad hex", ERR_BAD_DIGIT);
	if ((r = prt_client_open(&c, A.socket, 5000)) != 0)
		die("connect", r);
	if ((r = prt_client_call(c, buf, len, &rep, &rlen)) != 0)
		die("call", r);
	/* Every reply, typed or ERROR_REP, starts with the 8-byte frame
	 * header, the i32 result and the message. */
	prt_reader_init(&rd, rep, rlen);
	if (prt_get_view(&rd, &skip, PRT_HEADER_LEN) != 0 ||
	    prt_get_u32(&rd, &result) != 0 ||
	    prt_get_string(&rd, msg, sizeof(msg)) != 0)
		die("reply does not parse", ERR_MALFORMED);
	printf("result=%d reason=%s message=%s\n", (int32_t)result,
	    pol_reason_name((int32_t)result), msg);
	free(rep);
	free(buf);
	free(hex);
	prt_client_close(c);
	return 0;
}

/*
 * evm_tx_encode writes only empty access lists: this one writes the
 * unsigned form with one entry [address, []], as an attacker would.
 */
static void
encode_with_access_list(struct prt_writer *w, const struct evm_tx *tx,
    const uint8_t al_addr[20])
{
	size_t outer, list, entry, keys;

	prt_put_u8(w, EVM_TX_TYPE_1559);
	outer = w->len;
	rlp_put_u64(w, tx->chain_id);
	rlp_put_u64(w, tx->nonce);
	rlp_put_u256(w, &tx->max_priority_fee_per_gas);
	rlp_put_u256(w, &tx->max_fee_per_gas);
	rlp_put_u64(w, tx->gas_limit);
	rlp_put_bytes(w, tx->to, tx->has_to ? 20 : 0);
	rlp_put_u256(w, &tx->value);
	rlp_put_bytes(w, tx->data, tx->data_len);
	list = w->len;
	entry = w->len;
	rlp_put_bytes(w, al_addr, 20);
	keys = w->len;
	rlp_close_list(w, keys);
	rlp_close_list(w, entry);
	rlp_close_list(w, list);
	rlp_close_list(w, outer);
	if (prt_writer_error(w) != 0)
		die("encode", ERR_INTERNAL);
}

static int
run_mktx(void)
{
	struct prt_writer w;
	struct evm_tx tx;
	uint8_t to[20], al[20];
	u256 amount;
	char *hex;

	parse_addr(to, A.to);
	parse_u256(&amount, A.token != NULL ? A.token_amount : A.value);
	prt_writer_init(&w, PRT_TX_MAX);
	build_tx(&w, A.nonce, to, &amount);
	if (A.data != NULL || A.create || A.access_list != NULL ||
	    A.sign_form || (A.token != NULL && A.value != NULL)) {
		if (evm_tx_decode(&tx, w.p, w.len) != 0)
			die("decode", ERR_INTERNAL);
		/* --value with --token: ETH riding on a token transfer. */
		if (A.token != NULL && A.value != NULL)
			parse_u256(&tx.value, A.value);
		if (A.data != NULL && util_hex_decode_var(tx.data,
		    sizeof(tx.data), &tx.data_len, A.data) != 0)
			die("bad --data hex", ERR_MALFORMED);
		if (A.create)
			tx.has_to = 0;
		if (A.sign_form) {
			/* Any r, s: signerd must refuse before looking. */
			tx.is_signed = 1;
			memset(tx.r, 0x11, 32);
			memset(tx.s, 0x22, 32);
		}
		w.len = 0;
		if (A.access_list != NULL) {
			parse_addr(al, A.access_list);
			encode_with_access_list(&w, &tx, al);
		} else if (evm_tx_encode(&w, &tx) != 0) {
			die("encode", ERR_INTERNAL);
		}
	}
	if ((hex = malloc(w.len * 2 + 1)) == NULL)
		die("malloc", ERR_NOMEM);
	util_hex_encode(hex, w.p, w.len);
	printf("0x%s\n", hex);
	free(hex);
	prt_writer_free(&w);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "chain-id", required_argument, NULL, 'c' },
		{ "nonce", required_argument, NULL, 'n' },
		{ "to", required_argument, NULL, 't' },
		{ "value", required_argument, NULL, 'v' },
		{ "token", required_argument, NULL, 'k' },
		{ "token-amount", required_argument, NULL, 'K' },
		{ "max-fee", required_argument, NULL, 'f' },
		{ "prio-fee", required_argument, NULL, 'p' },
		{ "gas", required_argument, NULL, 'g' },
		{ "threads", required_argument, NULL, 'T' },
		{ "count", required_argument, NULL, 'N' },
		{ "asset", required_argument, NULL, 'a' },
		{ "amount", required_argument, NULL, 'A' },
		{ "id-prefix", required_argument, NULL, 'i' },
		{ "nonce-base", required_argument, NULL, 'b' },
		{ "first-id", required_argument, NULL, 'F' },
		{ "stated-amount", required_argument, NULL, 'S' },
		{ "stated-to", required_argument, NULL, 'O' },
		{ "timeout-ms", required_argument, NULL, 'M' },
		{ "data", required_argument, NULL, 'D' },
		{ "access-list", required_argument, NULL, 'L' },
		{ "create", no_argument, NULL, 'C' },
		{ "signed", no_argument, NULL, 'Z' },
		{ "receipts", no_argument, NULL, 'R' },
		{ "from", required_argument, NULL, 'm' },
		{ "created-day", required_argument, NULL, 'y' },
		{ NULL, 0, NULL, 0 },
	};
	const char *mode;
	int ch;

	if (argc < 2)
		die("usage: sdclient mktx|raw|load ...", ERR_INVALID_ARG);
	mode = argv[1];
	optind = 2;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 's': A.socket = optarg; break;
		case 'c': A.chain_id = strtoull(optarg, NULL, 10); break;
		case 'n': A.nonce = strtoull(optarg, NULL, 10); break;
		case 't': A.to = optarg; break;
		case 'v': A.value = optarg; break;
		case 'k': A.token = optarg; break;
		case 'K': A.token_amount = optarg; break;
		case 'f': A.max_fee = optarg; break;
		case 'p': A.prio_fee = optarg; break;
		case 'g': A.gas = strtoull(optarg, NULL, 10); break;
		case 'T': A.threads = atoi(optarg); break;
		case 'N': A.count = atoi(optarg); break;
		case 'a': A.asset = optarg; break;
		case 'A': A.amount = optarg; break;
		case 'i': A.id_prefix = optarg; break;
		case 'b': A.nonce_base = strtoull(optarg, NULL, 10); break;
		case 'F': A.first_id = strtoull(optarg, NULL, 10); break;
		case 'S': A.stated_amount = optarg; break;
		case 'O': A.stated_to = optarg; break;
		case 'M': A.timeout_ms = atoi(optarg); break;
		case 'D': A.data = optarg; break;
		case 'L': A.access_list = optarg; break;
		case 'C': A.create = 1; break;
		case 'Z': A.sign_form = 1; break;
		case 'R': A.receipts = 1; break;
		case 'm': A.from = optarg; break;
		case 'y': A.created_day = parse_created_day(optarg); break;
		default: die("bad option", ERR_INVALID_ARG);
		}
	}
	if (strcmp(mode, "mktx") == 0)
		return run_mktx();
	if (strcmp(mode, "raw") == 0 && optind == argc - 1 && A.socket)
		return run_raw(argv[optind]);
	if (strcmp(mode, "load") == 0)
		return run_load();
	die("usage: sdclient mktx|raw|load ...", ERR_INVALID_ARG);
	return 2;
}
