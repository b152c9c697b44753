/*
 * pverify.c: the auditor's walk on worker threads.  Segments are cut into
 * runs of whole lines; workers hash, chain-check, parse and prepare each
 * run on their own; the calling thread joins the runs in order (the first
 * line of each run is checked again against the chain as joined, which
 * covers the boundary) and feeds every line to the same in-order checks
 * as the serial walk (verify.c), so the verdict cannot depend on threads.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "journal/internal.h"

/* A run is this many bytes, up to the end of the line it reaches. */
#define PV_RUN_BYTES (1u << 18)
size_t jnl_pverify_run_bytes = PV_RUN_BYTES;
/* Segments in memory at once (each up to JNL_SEG_READ_MAX): the one being
 * joined and the next, so workers never wait at a segment boundary. */
#define PV_SEGS_LOADED 2
/* Runs worked on or done ahead of the joiner, per worker: bounds the
 * parsed JSON held in memory. */
#define PV_AHEAD_PER_THREAD 4

struct pv_seg {
	struct jnl_filebuf fb;
	size_t len;
	size_t idx;		/* in v->segs */
	int rc;			/* load failure, with err */
	struct jnl_error err;
	char name[40];
	int last;		/* the newest segment: a torn tail is allowed */
	size_t runs_left;	/* not joined yet */
};

struct pv_line {
	struct jnl_line l;
	json_t *rec;
	const char *reason;
	void *prep;
	int prep_rc;
};

struct pv_run {
	struct pv_run *next;
	struct pv_seg *seg;
	unsigned owner;		/* the worker that made its records */
	uint64_t id;		/* position in the join order */
	size_t start, end;	/* lines starting in [start, end) */
	int first, last;	/* of its segment */
	int done;
	/* The worker's answer: n lines that chain among themselves, then a
	 * failure rc (err) or the end; torn bytes after the last line. */
	struct pv_line *lines;
	size_t n, cap;
	int rc;
	struct jnl_error err;
	size_t torn;
};

struct pv {
	struct jnl_vstate *v;	/* workers read hooks, segs, dirs only */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct pv_run *head, *tail;	/* made and not joined yet */
	struct pv_run *unclaimed;	/* first no worker took */
	uint64_t next_id, joined;	/* runs made; runs joined */
	uint64_t ahead;
	size_t next_load, loaded;
	int loading;
	int stop;
	int fail;		/* ERR_NOMEM in a worker */
	/* Joined runs, to be freed by the worker that allocated their
	 * records: a free from another thread contends for that worker's
	 * malloc arena, and its memory comes back cold. */
	struct pv_run *trash[JNL_VERIFY_THREADS_MAX];
	unsigned nworkers;	/* workers numbered so far */
};

static void
run_free(const struct jnl_verify_hooks *h, struct pv_run *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		if (r->lines[i].prep != NULL)
			h->release(h->ctx, r->lines[i].prep);
		json_decref(r->lines[i].rec);
	}
	free(r->lines);
	free(r);
}

static void
seg_free(struct pv_seg *s)
{
	if (s == NULL)
		return;
	jnl_filebuf_free(&s->fb);
	free(s);
}

static int
add_line(struct pv_run *r, const struct jnl_line *l)
{
	struct pv_line *nl;
	size_t cap;

	if (r->n == r->cap) {
		cap = r->cap ? 2 * r->cap : (r->end - r->start) / 512 + 8;
		if ((nl = realloc(r->lines, cap * sizeof(*nl))) == NULL)
			return ERR_NOMEM;
		r->lines = nl;
		r->cap = cap;
	}
	memset(&r->lines[r->n], 0, sizeof(r->lines[0]));
	r->lines[r->n++].l = *l;
	return 0;
}

/*
 * Takes the run's first line on trust (its seq and prev are the join's to
 * check) so the chain inside the run can be walked from it.  Returns 1
 * with s set up, 0 when the line is not a record (the joiner's own check
 * names it), or ERR_NOMEM.
 */
static int
start_chain(struct jnl_scan *s, struct jnl_seg_cursor *c, struct pv_run *r)
{
	const uint8_t *p = r->seg->fb.p + r->start, *nl;
	struct jnl_prefix pre;
	const char *reason;
	struct jnl_line l;
	size_t n;

	if (r->start >= r->seg->len ||
	    (nl = memchr(p, '\n', r->seg->len - r->start)) == NULL)
		return 0;
	n = (size_t)(nl - p);
	if (n + 1 > JNL_LINE_MAX || jnl_fmt_prefix(&pre, &reason, p, n) != 0)
		return 0;
	memset(&l, 0, sizeof(l));
	if (jnl_hash(&s->h, l.hash, p, n) != 0)
		return ERR_NOMEM;
	l.seq = pre.seq;
	l.p = p;
	l.len = n;
	l.offset = r->start;
	s->seq = pre.seq;
	memcpy(s->hash, l.hash, 32);
	memcpy(s->last_segment, r->seg->name, sizeof(s->last_segment));
	s->last_offset = r->start;
	c->r.off = r->start + n + 1;
	return add_line(r, &l) == 0 ? 1 : ERR_NOMEM;
}

/*
 * Frees a parsed record at once when nothing in order needs it (no replay
 * hook, not a checkpoint): freed here, by the thread that allocated it,
 * while it is still in cache, rather than thousands of records later by
 * the joiner.
 */
static void
drop_unneeded(const struct jnl_verify_hooks *h, struct pv_line *pl)
{
	const char *type;

	if (h->replay != NULL || pl->rec == NULL)
		return;
	type = json_string_value(json_object_get(pl->rec, "type"));
	if (type != NULL && strcmp(type, "checkpoint") == 0)
		return;
	json_decref(pl->rec);
	pl->rec = NULL;
}

/* A worker's part of one run: chain inside it, JSON, prepare. */
static void
work_run(struct jnl_scan *s, const struct jnl_verify_hooks *h,
    struct pv_run *r)
{
	struct jnl_seg_cursor c;
	struct jnl_line l;
	size_t i;
	int rc;

	memset(&c, 0, sizeof(c));
	/* The cursor spans the whole segment: a break's blame looks at the
	 * line after it, and an over-long line is measured to its end. */
	prt_reader_init(&c.r, r->seg->fb.p, r->seg->len);
	memcpy(c.name, r->seg->name, sizeof(c.name));
	c.last = r->seg->last;
	if ((rc = start_chain(s, &c, r)) <= 0) {
		if (rc < 0)
			r->rc = jnl_err(&r->err, rc, r->seg->name, r->start,
			    0, "out of memory");
		return;
	}
	while (c.r.off < r->end && (rc = jnl_scan_next(s, &c, &l, &r->err)) ==
	    1) {
		if (add_line(r, &l) != 0) {
			r->rc = jnl_err(&r->err, ERR_NOMEM, r->seg->name,
			    l.offset, l.seq, "out of memory");
			break;
		}
	}
	if (rc < 0)
		r->rc = rc;
	r->torn = c.torn;
	for (i = 0; i < r->n; i++) {
		r->lines[i].prep_rc = jnl_vprepare(h, &r->lines[i].l,
		    &r->lines[i].rec, &r->lines[i].reason, &r->lines[i].prep);
		drop_unneeded(h, &r->lines[i]);
	}
}

/* Cuts a loaded segment into runs that end at line ends. */
static int
cut_runs(struct pv_seg *sg, struct pv_run **first, struct pv_run **lastp,
    size_t *count)
{
	struct pv_run *r, *prev = NULL;
	const uint8_t *nl;
	size_t start = 0, end;
	size_t run = jnl_pverify_run_bytes > 0 ? jnl_pverify_run_bytes : 1;

	*first = NULL;
	*count = 0;
	do {
		end = sg->len;
		if (sg->rc == 0 && sg->len - start > run &&
		    (nl = memchr(sg->fb.p + start + run - 1, '\n',
		    sg->len - start - run + 1)) != NULL)
			end = (size_t)(nl - sg->fb.p) + 1;
		if ((r = calloc(1, sizeof(*r))) == NULL)
			return ERR_NOMEM;
		r->seg = sg;
		r->start = start;
		r->end = end;
		r->first = start == 0;
		r->last = end == sg->len;
		/* A segment that did not load has nothing to work on. */
		r->done = sg->rc != 0;
		if (prev != NULL)
			prev->next = r;
		else
			*first = r;
		prev = r;
		(*count)++;
		start = end;
	} while (start < sg->len && sg->rc == 0);
	*lastp = prev;
	return 0;
}

/* Loads the next segment (the lock is dropped meanwhile). */
static void
load_next(struct pv *pv)
{
	struct pv_run *first = NULL, *last = NULL, *r;
	struct pv_seg *sg;
	size_t idx = pv->next_load++, count = 0;
	int rc;

	pv->loading = 1;
	pv->loaded++;
	pthread_mutex_unlock(&pv->mu);
	rc = ERR_NOMEM;
	if ((sg = calloc(1, sizeof(*sg))) != NULL) {
		sg->idx = idx;
		sg->last = idx + 1 == pv->v->nsegs;
		snprintf(sg->name, sizeof(sg->name), JNL_SEG_NAME_FMT,
		    pv->v->segs[idx].no);
		sg->rc = jnl_vload(pv->v, idx, &sg->fb, &sg->len, &sg->err);
		rc = cut_runs(sg, &first, &last, &count);
	}
	pthread_mutex_lock(&pv->mu);
	pv->loading = 0;
	if (rc != 0) {
		while (first != NULL) {
			r = first->next;
			free(first);
			first = r;
		}
		seg_free(sg);
		pv->fail = ERR_NOMEM;
		pthread_cond_broadcast(&pv->cv);
		return;
	}
	sg->runs_left = count;
	for (r = first; r != NULL; r = r->next)
		r->id = pv->next_id++;
	if (pv->tail != NULL)
		pv->tail->next = first;
	else
		pv->head = first;
	pv->tail = last;
	if (pv->unclaimed == NULL)
		pv->unclaimed = first;
	while (pv->unclaimed != NULL && pv->unclaimed->done)
		pv->unclaimed = pv->unclaimed->next;
	pthread_cond_broadcast(&pv->cv);
}

/* Frees a list of runs linked by next. */
static void
run_free_all(const struct jnl_verify_hooks *h, struct pv_run *r)
{
	struct pv_run *next;

	for (; r != NULL; r = next) {
		next = r->next;
		run_free(h, r);
	}
}

static void *
worker(void *arg)
{
	struct pv *pv = arg;
	struct pv_run *r;
	struct jnl_scan s;
	unsigned me;

	if (jnl_scan_init(&s) != 0) {
		pthread_mutex_lock(&pv->mu);
		pv->fail = ERR_NOMEM;
		pthread_cond_broadcast(&pv->cv);
		pthread_mutex_unlock(&pv->mu);
		jnl_scan_free(&s);
		return NULL;
	}
	pthread_mutex_lock(&pv->mu);
	me = pv->nworkers++;
	while (!pv->stop && !pv->fail) {
		if ((r = pv->trash[me]) != NULL) {
			pv->trash[me] = NULL;
			pthread_mutex_unlock(&pv->mu);
			run_free_all(pv->v->hooks, r);
			pthread_mutex_lock(&pv->mu);
			continue;
		}
		r = pv->unclaimed;
		if (r != NULL && r->id < pv->joined + pv->ahead) {
			pv->unclaimed = r->next;
			while (pv->unclaimed != NULL && pv->unclaimed->done)
				pv->unclaimed = pv->unclaimed->next;
			r->owner = me;
			pthread_mutex_unlock(&pv->mu);
			work_run(&s, pv->v->hooks, r);
			pthread_mutex_lock(&pv->mu);
			r->done = 1;
			pthread_cond_broadcast(&pv->cv);
			continue;
		}
		if (r == NULL && !pv->loading &&
		    pv->next_load < pv->v->nsegs &&
		    pv->loaded < PV_SEGS_LOADED) {
			load_next(pv);
			continue;
		}
		if (r == NULL && !pv->loading && pv->next_load == pv->v->nsegs)
			break;
		pthread_cond_wait(&pv->cv, &pv->mu);
	}
	pthread_mutex_unlock(&pv->mu);
	jnl_scan_free(&s);
	return NULL;
}

/* Moves the joined chain past line l (checked by the worker). */
static void
accept_line(struct jnl_vstate *v, const struct jnl_line *l)
{
	v->s.seq = l->seq;
	memcpy(v->s.hash, l->hash, 32);
	memcpy(v->s.last_segment, v->c.name, sizeof(v->s.last_segment));
	v->s.last_offset = l->offset;
	v->c.r.off = l->offset + l->len + 1;
}

/*
 * Joins one done run: its segment's start, its first line against the
 * chain so far, then every line in order.  Returns 0 or the final error.
 */
static int
join_run(struct jnl_vstate *v, struct pv_run *r)
{
	struct pv_seg *sg = r->seg;
	struct pv_line *pl;
	struct jnl_error e;
	struct jnl_line l;
	size_t i;
	int rc;

	if (r->first && (rc = jnl_vstate_segment(v, sg->idx, sg->fb.p,
	    sg->len, sg->rc, &sg->err)) != 0)
		return rc;
	v->c.r.off = r->start;
	if ((rc = jnl_scan_next(&v->s, &v->c, &l, &e)) < 0)
		return jnl_vstate_chain_fail(v, rc, &e);
	if (rc == 0) {
		/* Nothing but a torn tail (or an empty segment). */
		if (r->last && !v->held)
			v->res->torn_bytes = v->c.torn;
		return 0;
	}
	if (r->n == 0) {
		if (r->rc == 0)
			jnl_err(&r->err, r->rc = ERR_INTERNAL, sg->name,
			    r->start, l.seq, "a worker lost the run");
		return jnl_vstate_chain_fail(v, r->rc, &r->err);
	}
	for (i = 0; i < r->n; i++) {
		pl = &r->lines[i];
		if (i > 0)
			accept_line(v, &pl->l);
		if ((rc = jnl_vstate_record(v, i == 0 ? &l : &pl->l, pl->rec,
		    pl->reason, pl->prep_rc, pl->prep)) != 0)
			return rc;
	}
	if (r->rc < 0)
		return jnl_vstate_chain_fail(v, r->rc, &r->err);
	if (r->last && !v->held)
		v->res->torn_bytes = r->torn;
	return 0;
}

/* The calling thread: joins runs in order until the end or a failure. */
static int
join_all(struct pv *pv)
{
	struct jnl_vstate *v = pv->v;
	struct jnl_error e;
	struct pv_run *r;
	struct pv_seg *sg;
	int rc = 0;

	pthread_mutex_lock(&pv->mu);
	for (;;) {
		while (!pv->fail && (pv->head == NULL || !pv->head->done) &&
		    !(pv->head == NULL && !pv->loading &&
		    pv->next_load == v->nsegs))
			pthread_cond_wait(&pv->cv, &pv->mu);
		if (pv->fail) {
			rc = jnl_err(&e, pv->fail, NULL, 0, v->s.seq + 1,
			    "out of memory");
			rc = jnl_vstate_chain_fail(v, rc, &e);
			break;
		}
		if ((r = pv->head) == NULL)
			break;
		pthread_mutex_unlock(&pv->mu);
		rc = join_run(v, r);
		pthread_mutex_lock(&pv->mu);
		if (rc != 0)
			break;
		pv->head = r->next;
		if (pv->head == NULL)
			pv->tail = NULL;
		pv->joined++;
		sg = r->seg;
		r->next = pv->trash[r->owner];
		pv->trash[r->owner] = r;
		if (--sg->runs_left == 0) {
			seg_free(sg);
			pv->loaded--;
		}
		pthread_cond_broadcast(&pv->cv);
	}
	pv->stop = 1;
	pthread_cond_broadcast(&pv->cv);
	pthread_mutex_unlock(&pv->mu);
	return rc;
}

int
jnl_pverify_run(struct jnl_vstate *v, unsigned threads)
{
	pthread_t tid[JNL_VERIFY_THREADS_MAX];
	struct jnl_error e;
	struct pv_run *r, *next;
	struct pv_seg *sg;
	struct pv pv;
	unsigned i, started = 0;
	int rc;

	memset(&pv, 0, sizeof(pv));
	pv.v = v;
	pv.ahead = (uint64_t)threads * PV_AHEAD_PER_THREAD;
	if (pthread_mutex_init(&pv.mu, NULL) != 0)
		goto nomem;
	if (pthread_cond_init(&pv.cv, NULL) != 0) {
		pthread_mutex_destroy(&pv.mu);
		goto nomem;
	}
	for (i = 0; i < threads; i++)
		if (pthread_create(&tid[i], NULL, worker, &pv) == 0)
			started++;
	if (started == 0) {
		pv.stop = 1;
		rc = jnl_err(&e, ERR_NOMEM, NULL, 0, 0, "no worker thread");
		rc = jnl_vstate_chain_fail(v, rc, &e);
	} else {
		rc = join_all(&pv);
	}
	for (i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	for (i = 0; i < JNL_VERIFY_THREADS_MAX; i++)
		run_free_all(v->hooks, pv.trash[i]);
	/* What a failure left unjoined. */
	for (r = pv.head; r != NULL; r = next) {
		next = r->next;
		sg = r->seg;
		run_free(v->hooks, r);
		if (--sg->runs_left == 0)
			seg_free(sg);
	}
	pthread_cond_destroy(&pv.cv);
	pthread_mutex_destroy(&pv.mu);
	return rc;
nomem:
	rc = jnl_err(&e, ERR_NOMEM, NULL, 0, 0, "out of memory");
	return jnl_vstate_chain_fail(v, rc, &e);
}
