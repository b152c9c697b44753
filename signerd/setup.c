/*
 * setup.c: signerd's privileged start-up steps: the genesis policy and its
 * approver keys, the signing keys, and opening the journal, whose replay
 * (replay.c) rebuilds the state (invariants 2, 4 and 5 across restarts).
 */
#include "signerd/setup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "common/err.h"
#include "common/log.h"
#include "evm/addr.h"
#include "signerd/anchor.h"
#include "signerd/readback.h"

/* Reads a whole regular file of at most max bytes. */
static int
read_file(uint8_t **out, size_t *outlen, const char *path, size_t max)
{
	struct stat st;
	uint8_t *buf = NULL;
	size_t got = 0;
	ssize_t n;
	int fd, r = ERR_IO;

	*out = NULL;
	*outlen = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return ERR_IO;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		goto out;
	if ((size_t)st.st_size > max) {
		r = ERR_TOO_LARGE;
		goto out;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		r = ERR_NOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto out;
		got += (size_t)n;
	}
	buf[got] = '\0';
	*out = buf;
	*outlen = got;
	buf = NULL;
	r = 0;
 out:
	free(buf);
	close(fd);
	return r;
}

int
sd_setup_policy(struct sd_ctx *sd, const char *path, char *err, size_t errlen)
{
	char perr[256];
	uint8_t *text = NULL;
	size_t len = 0;
	int r;

	if ((r = read_file(&text, &len, path, POL_MAX_FILE)) != 0) {
		snprintf(err, errlen, "%s: cannot read the genesis policy: %s",
		    path, r == ERR_IO ? strerror(errno) : err_str(r));
		return r;
	}
	/* OpenSSL's first use happens here, before the sandbox. */
	if ((r = sd_version_parse(&sd->genesis, text, len, perr,
	    sizeof(perr))) != 0)
		snprintf(err, errlen, "%s: %s", path, perr);
	free(text);
	return r;
}

int
sd_setup_key(struct sd_ctx *sd, const char *name, const char *uri, char *err,
    size_t errlen)
{
	struct sd_key *k;
	char weak[128];
	int r;

	if (sd->nkeys >= SD_MAX_KEYS) {
		snprintf(err, errlen, "too many keys (at most %d)",
		    SD_MAX_KEYS);
		return ERR_TOO_LARGE;
	}
	k = &sd->keys[sd->nkeys];
	memset(k, 0, sizeof(*k));
	snprintf(k->name, sizeof(k->name), "%s", name);
	if ((r = hsm_key_find(sd->hsm, &k->key, uri)) != 0) {
		if (r == ERR_HSM_KEY_WEAK &&
		    hsm_key_weakness(weak, sizeof(weak), &k->key) == 0)
			snprintf(err, errlen, "key %s (%s): refused: %s", name,
			    uri, weak);
		else
			snprintf(err, errlen, "key %s (%s): %s %s", name, uri,
			    err_str(r), hsm_last_error());
		return r;
	}
	if (k->key.type != HSM_KEY_SECP256K1) {
		snprintf(err, errlen, "key %s (%s): a payout key must be "
		    "secp256k1, this one is %s", name, uri,
		    hsm_key_type_name(k->key.type));
		return ERR_HSM_KEY_TYPE;
	}
	if ((r = evm_addr_from_pubkey(k->address, k->key.pub)) != 0) {
		snprintf(err, errlen, "key %s: bad public key", name);
		return r;
	}
	sd->nkeys++;
	return 0;
}

int
sd_setup_audit_key(struct sd_ctx *sd, const char *uri, EVP_PKEY **pub,
    char *err, size_t errlen)
{
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	int r;

	*pub = NULL;
	if ((r = hsm_key_find(sd->hsm, &sd->audit_key, uri)) != 0) {
		snprintf(err, errlen, "audit key %s: %s %s", uri, err_str(r),
		    hsm_last_error());
		return r;
	}
	if (sd->audit_key.type != HSM_KEY_P256) {
		snprintf(err, errlen, "audit key %s must be P-256", uri);
		return ERR_HSM_KEY_TYPE;
	}
	/* The journal checks each checkpoint signature against this public
	 * key before appending it. */
	r = ERR_INTERNAL;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	    "prime256v1", 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
	    sd->audit_key.pub, sizeof(sd->audit_key.pub)) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(pctx) != 1 ||
	    EVP_PKEY_fromdata(pctx, pub, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		snprintf(err, errlen, "audit key %s: public key not usable",
		    uri);
		goto out;
	}
	r = 0;
 out:
	EVP_PKEY_CTX_free(pctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return r;
}

int
sd_setup_journal(struct sd_ctx *sd, const char *dir, uint64_t segment_max,
    EVP_PKEY *audit_pub, int reanchor, char *err, size_t errlen)
{
	uint64_t aseq = 0;
	uint8_t ahash[32];
	int had = 0;
	struct jnl_config cfg;
	struct jnl_error jerr;
	char where[320];
	uint64_t seq;
	uint8_t head[32];
	json_t *genesis = NULL;
	int r;

	/* Invariant 8: the HSM remembers how far the journal got. */
	if ((r = sd_anchor_read(sd, &aseq, ahash, err, errlen)) == 0)
		had = 1;
	else if (r != ERR_NOT_FOUND)
		return r;
	memset(&cfg, 0, sizeof(cfg));
	if (had && !reanchor) {
		cfg.anchor_seq = aseq;
		memcpy(cfg.anchor_hash, ahash, 32);
	}
	cfg.segment_max = segment_max;
	cfg.restore = sd_replay_snapshot;
	cfg.replay = sd_replay_record;
	cfg.ctx = sd;
	cfg.audit_pub = audit_pub;
	sd->audit_pub = audit_pub;
	memset(&jerr, 0, sizeof(jerr));
	/* Replay reads earlier records back (a fee bump's first one), and so
	 * does every retry later, after the sandbox: the directory stays
	 * open (an empty journal's is made by jnl_open). */
	if ((r = sd_read_dirs_open(sd, dir, NULL)) != 0) {
		snprintf(err, errlen, "journal %s: %s", dir, err_str(r));
		return r;
	}
	if ((r = jnl_open(&sd->journal, &jerr, dir, &cfg)) == 0 &&
	    sd->read_dirfd[0] <= 0 &&
	    (r = sd_read_dirs_open(sd, dir, NULL)) != 0)
		snprintf(jerr.reason, sizeof(jerr.reason), "cannot open the "
		    "directory to read records back");
	if (r != 0) {
		snprintf(err, errlen, "journal %s: %s%s", dir,
		    jerr.reason[0] ? jnl_error_format(where, sizeof(where),
		    &jerr) : err_str(r), r == ERR_ROLLBACK ? " (if this is "
		    "deliberate, e.g. a restore from backup, start once with "
		    "-A to re-anchor)" : "");
		return r;
	}
	jnl_head(sd->journal, &seq, head);
	sd->anchor_seq = had && !reanchor ? aseq : 0;
	if (seq != 0 && !had && !reanchor) {
		snprintf(err, errlen, "journal %s: the HSM holds no anchor for "
		    "this journal of %llu records, so it cannot tell whether "
		    "it was cut or replaced; if this is deliberate (a new "
		    "token, or the first start of a signerd that keeps "
		    "anchors), start once with -A", dir,
		    (unsigned long long)seq);
		return ERR_ROLLBACK;
	}
	if (seq != 0 && reanchor &&
	    (r = sd_anchor_reanchored(sd, had, aseq, ahash)) != 0) {
		snprintf(err, errlen, "journal %s: the re-anchor record: %s",
		    dir, err_str(r));
		return r;
	}
	sd_seen_prune(sd_state_seen(sd->state),
	    sd_state_newest_time(sd->state));
	if (seq != 0) {
		log_info("journal replayed: head %llu, %zu signed requests, "
		    "%zu queue entries%s", (unsigned long long)seq,
		    sd_state_count(sd->state),
		    sd_queue_count(sd_state_queue(sd->state)),
		    sd_pause_active(sd_state_pause(sd->state)) ? ", PAUSED" : "");
		return 0;
	}
	/* A new journal starts with the genesis policy, whole, so auditors
	 * see exactly which rules were in force. */
	if ((genesis = sd_record_new(sd, "genesis")) == NULL ||
	    json_object_set_new(genesis, "policy_id",
	    json_string(pol_policy_id(sd->genesis->policy))) != 0 ||
	    json_object_set_new(genesis, "policy_text",
	    json_stringn((const char *)sd->genesis->text,
	    sd->genesis->len)) != 0) {
		r = ERR_NOMEM;
		goto out;
	}
	if ((r = sd_journal_record(sd, genesis, NULL, NULL)) != 0) {
		snprintf(err, errlen, "journal %s: genesis record: %s", dir,
		    err_str(r));
		goto out;
	}
	/* Version 1 is in force from the genesis record's time. */
	sd->genesis->since = sd_state_newest_time(sd->state);
	log_info("new journal: genesis policy %s (%s)",
	    pol_policy_id(sd->genesis->policy), sd->genesis->hex);
 out:
	json_decref(genesis);
	return r;
}

int
sd_audit_sign(void *ctx, uint8_t rs[64], const uint8_t digest[32])
{
	struct sd_ctx *sd = ctx;

	return hsm_sign(sd->hsm, rs, &sd->audit_key, digest);
}

int
sd_setup_journal_owner(const char *dir, const char *user, char *err,
    size_t errlen)
{
	const struct passwd *pw;
	const struct dirent *e;
	struct stat st;
	DIR *d;
	int r = 0;

	if (geteuid() != 0)
		return 0;
	if ((pw = getpwnam(user)) == NULL) {
		snprintf(err, errlen, "user %s does not exist", user);
		return ERR_NOT_FOUND;
	}
	if ((d = opendir(dir)) == NULL) {
		snprintf(err, errlen, "journal %s: %s", dir, strerror(errno));
		return ERR_IO;
	}
	while (r == 0 && (e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, "seg-", 4) != 0 &&
		    strncmp(e->d_name, "snap-", 5) != 0)
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode) || (st.st_uid == pw->pw_uid &&
		    st.st_gid == pw->pw_gid))
			continue;
		if (fchownat(dirfd(d), e->d_name, pw->pw_uid, pw->pw_gid,
		    AT_SYMLINK_NOFOLLOW) != 0) {
			snprintf(err, errlen, "journal %s/%s: chown to %s: %s",
			    dir, e->d_name, user, strerror(errno));
			r = ERR_IO;
		}
	}
	closedir(d);
	return r;
}
