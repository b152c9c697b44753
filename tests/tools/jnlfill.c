/* jnlfill.c: writes a large signerd-format journal (the genesis and one signed record of a real one, cloned under fresh request ids and nonces) so `make bench` can time signerd's start-up replay (not shipped). */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/log.h"
#include "journal/internal.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: jnlfill --from DIR --to DIR --records N\n"
	    "Reads the journal signerd wrote in --from and writes a new one in\n"
	    "--to (an empty directory): its genesis record, then N-1 copies of\n"
	    "its first \"signed\" record, each with request_id \"fill-<i>\"\n"
	    "and nonce <i>,\n"
	    "hash-chained and cut into segments as signerd would.  No\n"
	    "fdatasync per record and no checkpoints: a test fixture whose\n"
	    "replay costs what signerd's does.  TEST ONLY.\n");
}

/* A record's body: the parsed line without the prefix's prev and seq. */
static json_t *
body_of(const struct jnl_record *rec)
{
	json_t *b = json_deep_copy(rec->json);

	if (b != NULL) {
		json_object_del(b, "prev");
		json_object_del(b, "seq");
	}
	return b;
}

/* Takes the genesis record (seq 1) and the first signed one from dir. */
static int
read_templates(json_t **genesis, json_t **signed_rec, const char *dir)
{
	struct jnl_reader *rd = NULL;
	struct jnl_record rec;
	struct jnl_error e;
	const char *type;
	char msg[512];
	int r;

	*genesis = *signed_rec = NULL;
	if ((r = jnl_reader_open(&rd, &e, dir)) != 0)
		goto fail;
	while (*signed_rec == NULL && (r = jnl_reader_next(rd, &rec, &e)) == 1) {
		type = json_string_value(json_object_get(rec.json, "type"));
		if (type == NULL)
			continue;
		if (rec.seq == 1 && strcmp(type, "genesis") == 0)
			*genesis = body_of(&rec);
		else if (strcmp(type, "signed") == 0)
			*signed_rec = body_of(&rec);
	}
	if (r < 0)
		goto fail;
	jnl_reader_close(rd);
	if (*genesis == NULL || *signed_rec == NULL) {
		fprintf(stderr, "jnlfill: %s has no genesis record at seq 1 or "
		    "no signed record\n", dir);
		return ERR_NOT_FOUND;
	}
	return 0;
fail:
	fprintf(stderr, "jnlfill: %s: %s\n", dir,
	    jnl_error_format(msg, sizeof(msg), &e));
	jnl_reader_close(rd);
	return r < 0 ? r : ERR_MALFORMED;
}

/* Writes w's bytes as segment number seg of dir, and empties w. */
static int
flush_segment(struct prt_writer *w, const char *dir, unsigned seg)
{
	char path[PATH_MAX + 64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/" JNL_SEG_NAME_FMT, dir, seg);
	if ((f = fopen(path, "wx")) == NULL ||
	    fwrite(w->p, 1, w->len, f) != w->len) {
		if (f != NULL)
			fclose(f);
		fprintf(stderr, "jnlfill: cannot write %s\n", path);
		return ERR_IO;
	}
	if (fclose(f) != 0)
		return ERR_IO;
	prt_writer_free(w);
	prt_writer_init(w, JNL_SEGMENT_MAX_DEFAULT + JNL_LINE_MAX);
	return 0;
}

static int
fill(const char *to, const json_t *genesis, json_t *tmpl, uint64_t n)
{
	struct jnl_hasher h;
	struct prt_writer w;
	uint8_t prev[32] = { 0 }, hash[32];
	char id[64], *text = NULL;
	unsigned seg = 1;
	size_t len;
	uint64_t seq;
	int r, has_nonce = json_is_integer(json_object_get(tmpl, "nonce"));

	if ((r = jnl_hasher_init(&h)) != 0)
		return r;
	prt_writer_init(&w, JNL_SEGMENT_MAX_DEFAULT + JNL_LINE_MAX);
	for (seq = 1; seq <= n; seq++) {
		if (seq > 1) {
			snprintf(id, sizeof(id), "fill-%llu",
			    (unsigned long long)seq);
			/* A fresh nonce too: replay gives each (key, chain,
			 * nonce) to one request, and conflicts take another
			 * path than the one being timed. */
			if (json_object_set_new(tmpl, "request_id",
			    json_string(id)) != 0 ||
			    (has_nonce && json_object_set_new(tmpl, "nonce",
			    json_integer((json_int_t)seq)) != 0)) {
				r = ERR_NOMEM;
				goto out;
			}
		}
		/* jnl_fmt_body is the writer's own serialisation, so the
		 * lines are byte for byte what jnl_append would write. */
		if ((r = jnl_fmt_body(&text, &len, seq == 1 ? genesis : tmpl,
		    0)) != 0 ||
		    (r = jnl_fmt_line(&w, hash, &h, seq, prev, text, len)) != 0)
			goto out;
		free(text);
		text = NULL;
		memcpy(prev, hash, 32);
		/* Segments never split a line and stay under the default
		 * limit, as rotation in writer.c keeps them. */
		if ((w.len + JNL_LINE_MAX > JNL_SEGMENT_MAX_DEFAULT || seq == n) &&
		    (r = flush_segment(&w, to, seg++)) != 0)
			goto out;
	}
	r = 0;
out:
	free(text);
	prt_writer_free(&w);
	jnl_hasher_free(&h);
	return r;
}

int
main(int argc, char **argv)
{
	enum { O_FROM = 256, O_TO, O_RECORDS, O_HELP };
	static const struct option longopts[] = {
		{ "from", required_argument, NULL, O_FROM },
		{ "to", required_argument, NULL, O_TO },
		{ "records", required_argument, NULL, O_RECORDS },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	const char *from = NULL, *to = NULL;
	json_t *genesis = NULL, *tmpl = NULL;
	unsigned long long n = 0;
	char *end;
	int c, r;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case O_FROM: from = optarg; break;
		case O_TO: to = optarg; break;
		case O_RECORDS:
			n = strtoull(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0')
				n = 0;
			break;
		case O_HELP: usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	/* A bound, so a typo cannot fill the disk. */
	if (from == NULL || to == NULL || optind != argc || n < 2 ||
	    n > 10000000) {
		usage(stderr);
		return 2;
	}
	log_init("jnlfill", LOG_LEVEL_WARN);
	if ((r = read_templates(&genesis, &tmpl, from)) != 0)
		goto out;
	if ((r = fill(to, genesis, tmpl, n)) != 0)
		fprintf(stderr, "jnlfill: %s: %s\n", to, err_str(r));
out:
	json_decref(genesis);
	json_decref(tmpl);
	return r == 0 ? 0 : 1;
}
