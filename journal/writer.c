/* writer.c: group commit: concurrent appends share one write(2) and one fdatasync(2). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/util.h"
#include "journal/internal.h"

/*
 * Leader, not writer thread: the first appender to find no write in
 * progress takes the whole queue and does the I/O itself.  A lone appender
 * then pays no thread hand-off (two context switches on the signing hot
 * path), and appenders that arrive during a leader's fdatasync form the
 * next batch on their own.  An async appender (jnl_append_async) does not
 * wait at all: whoever leads its batch runs its callback, and a caller
 * that has no thread waiting runs one looping jnl_lead_wait()/jnl_lead()
 * (signerd's group-commit leader), so the batch is bounded by the records
 * queued, not by the threads that can wait.
 */
struct jnl_waiter {
	struct jnl_waiter *next;
	const char *text;	/* "{...}" from jnl_fmt_body() */
	size_t len;
	uint64_t max_seq;	/* 0, or the highest seq it may take */
	pthread_cond_t cv;	/* one per waiter: wake exactly who is done */
	/* Issue 12 (group commit that groups): set for jnl_append_async(),
	 * whose caller does not wait; the leader runs it after the batch. */
	jnl_done_fn done_fn;
	void *done_arg;
	int done;
	int result;
	uint64_t seq;
	uint8_t hash[32];
	struct jnl_pos pos;	/* where its line went, once durable */
	size_t at;		/* its line's offset in the batch */
};

struct jnl {
	pthread_mutex_t mu;
	/* Under mu. */
	struct jnl_waiter *qhead, *qtail;
	int writing;		/* a leader owns the "Leader." fields */
	int failed;		/* a write or sync failed: no more appends */
	/* Wakes jnl_lead_wait(): an async record is queued and nobody
	 * leads.  lead_stop ends jnl_lead_wait() once the queue is empty. */
	pthread_cond_t work;
	int lead_stop;
	struct jnl_stats st;
	/* Durable head.  Written by the leader under mu; read by the leader
	 * without it (it is the only writer) and by others under it. */
	uint64_t seq;
	uint8_t hash[32];
	/* Leader. */
	int dirfd;
	int segfd;
	uint32_t seg_no;
	uint64_t seg_size;
	uint64_t seg_max;
	struct jnl_hasher h;
	/* Immutable after open. */
	EVP_PKEY *audit_pub;
	/* Under mu: who hears each fdatasync's duration (signerd's metrics). */
	jnl_sync_fn sync_fn;
	void *sync_arg;
};

int
jnl_writer_new(struct jnl **out, const struct jnl_writer_init *init)
{
	struct jnl *j;
	int r;

	*out = NULL;
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return ERR_NOMEM;
	if ((r = jnl_hasher_init(&j->h)) != 0) {
		free(j);
		return r;
	}
	pthread_mutex_init(&j->mu, NULL);
	pthread_cond_init(&j->work, NULL);
	j->dirfd = init->dirfd;
	j->segfd = init->segfd;
	j->seg_no = init->seg_no;
	j->seg_size = init->seg_size;
	j->seg_max = init->seg_max;
	j->seq = init->seq;
	memcpy(j->hash, init->hash, 32);
	if (init->audit_pub != NULL && EVP_PKEY_up_ref(init->audit_pub) == 1)
		j->audit_pub = init->audit_pub;
	*out = j;
	return 0;
}

void
jnl_close(struct jnl *j)
{
	if (j == NULL)
		return;
	if (j->segfd >= 0)
		close(j->segfd);
	if (j->dirfd >= 0)
		close(j->dirfd);	/* also drops the flock */
	jnl_hasher_free(&j->h);
	EVP_PKEY_free(j->audit_pub);
	pthread_cond_destroy(&j->work);
	pthread_mutex_destroy(&j->mu);
	free(j);
}

int
jnl_dirfd(struct jnl *j)
{
	return j->dirfd;
}

EVP_PKEY *
jnl_audit_pub(struct jnl *j)
{
	return j->audit_pub;
}

void
jnl_head(struct jnl *j, uint64_t *seq, uint8_t hash[32])
{
	pthread_mutex_lock(&j->mu);
	if (seq != NULL)
		*seq = j->seq;
	if (hash != NULL)
		memcpy(hash, j->hash, 32);
	pthread_mutex_unlock(&j->mu);
}

void
jnl_set_sync_observer(struct jnl *j, jnl_sync_fn fn, void *arg)
{
	pthread_mutex_lock(&j->mu);
	j->sync_fn = fn;
	j->sync_arg = arg;
	pthread_mutex_unlock(&j->mu);
}

void
jnl_stats(struct jnl *j, struct jnl_stats *st)
{
	pthread_mutex_lock(&j->mu);
	*st = j->st;
	pthread_mutex_unlock(&j->mu);
}

/* Starts the next segment.  Leader only. */
static int
rotate(struct jnl *j)
{
	char name[40];
	int fd;

	if (j->seg_no >= JNL_SEG_NUM_MAX)
		return ERR_OVERFLOW;
	snprintf(name, sizeof(name), JNL_SEG_NAME_FMT, j->seg_no + 1);
	fd = openat(j->dirfd, name,
	    O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0640);
	if (fd < 0) {
		log_error("create %s: %s", name, strerror(errno));
		return ERR_IO;
	}
	/* The new name must be durable before a record acknowledged from it
	 * is: otherwise a crash could lose the whole segment. */
	if (jnl_sync_dir(j->dirfd) != 0) {
		log_error("fsync of the journal directory: %s",
		    strerror(errno));
		close(fd);
		return ERR_IO;
	}
	close(j->segfd);
	j->segfd = fd;
	j->seg_no++;
	j->seg_size = 0;
	return 0;
}

/*
 * Marks w done under mu: a waiting thread is woken; an async waiter (which
 * nobody waits for, and which nobody else frees) goes on *fin, in order,
 * for the leader to complete once mu is dropped (run_done()).
 */
static void
finish(struct jnl_waiter *w, struct jnl_waiter ***fin)
{
	w->done = 1;
	if (w->done_fn != NULL) {
		w->next = NULL;
		**fin = w;
		*fin = &w->next;
	} else
		pthread_cond_signal(&w->cv);
}

/* The next leader: the oldest waiter's thread, or jnl_lead_wait()'s. */
static void
hand_over(struct jnl *j)
{
	if (j->qhead == NULL)
		return;
	if (j->qhead->done_fn == NULL)
		pthread_cond_signal(&j->qhead->cv);
	else
		pthread_cond_signal(&j->work);
}

/*
 * Writes the queue as one batch.  Called and returns with mu held; drops it
 * for the I/O while j->writing keeps other leaders out.  Returns the async
 * waiters now done, for run_done() after mu is dropped.
 */
static struct jnl_waiter *
lead(struct jnl *j)
{
	struct jnl_waiter *batch = j->qhead, *w, *next, *fin = NULL;
	struct jnl_waiter **fin_tail = &fin;
	struct prt_writer buf;
	uint64_t t0 = 0;
	jnl_sync_fn sync_fn = j->sync_fn;
	void *sync_arg = j->sync_arg;
	uint64_t seq, count = 0;
	uint8_t prev[32];
	int r = 0, io = 0, rotated = 0;

	j->qhead = j->qtail = NULL;
	j->writing = 1;
	pthread_mutex_unlock(&j->mu);

	/* Seqs and prevs are assigned here, in queue order, so the chain
	 * order is the order the records reach the disk. */
	prt_writer_init(&buf, SIZE_MAX);
	seq = j->seq;
	memcpy(prev, j->hash, 32);
	for (w = batch; w != NULL && r == 0; w = w->next) {
		if (w->max_seq != 0 && seq + 1 > w->max_seq) {
			w->result = ERR_TIMEOUT;
			continue;
		}
		w->at = buf.len;
		if ((r = jnl_fmt_line(&buf, w->hash, &j->h, seq + 1, prev,
		    w->text, w->len)) != 0)
			break;
		w->seq = ++seq;
		memcpy(prev, w->hash, 32);
		count++;
	}
	if (r == 0 && count > 0) {
		/* A batch goes whole into one segment; a segment exceeds
		 * seg_max only when one batch alone does. */
		if (j->seg_size > 0 && j->seg_size + buf.len > j->seg_max) {
			if ((r = rotate(j)) != 0)
				io = 1;
			else
				rotated = 1;
		}
		if (r == 0 && jnl_write_all(j->segfd, buf.p, buf.len) != 0) {
			log_error("journal write: %s", strerror(errno));
			r = ERR_IO;
			io = 1;
		}
		if (r == 0) {
			if (sync_fn != NULL)
				t0 = util_mono_ns();
			if (fdatasync(j->segfd) != 0) {
				/* After a failed fdatasync the page cache may
				 * claim data the disk lost; only a reopen can
				 * tell. */
				log_error("journal fdatasync: %s",
				    strerror(errno));
				r = ERR_IO;
				io = 1;
			}
			if (sync_fn != NULL)
				sync_fn(sync_arg, util_mono_ns() - t0);
		}
	}

	pthread_mutex_lock(&j->mu);
	if (io) {
		j->failed = 1;
		j->st.failed = 1;
		log_error("journal is read-only from now on: every append "
		    "fails until it is reopened");
	}
	if (r == 0 && count > 0) {
		/* Segments stay below JNL_SEGMENT_MAX_LIMIT plus one batch
		 * of lines, far below 4 GiB: every offset fits in 32 bits. */
		for (w = batch; w != NULL; w = w->next) {
			w->pos.seg = j->seg_no;
			w->pos.off = (uint32_t)(j->seg_size + w->at);
		}
		j->seq = seq;
		memcpy(j->hash, prev, 32);
		j->seg_size += buf.len;
		j->st.appends += count;
		j->st.batches++;
		j->st.fdatasyncs++;
		j->st.bytes += buf.len;
		j->st.rotations += (uint64_t)rotated;
		if (count > j->st.max_batch)
			j->st.max_batch = count;
	}
	for (w = batch; w != NULL; w = next) {
		next = w->next;
		if (r != 0 && w->result == 0) {
			w->result = io ? ERR_IO : r;
			w->seq = 0;
			memset(w->hash, 0, 32);
		}
		finish(w, &fin_tail);
	}
	j->writing = 0;
	if (j->failed) {
		for (w = j->qhead; w != NULL; w = next) {
			next = w->next;
			w->result = ERR_IO;
			finish(w, &fin_tail);
		}
		j->qhead = j->qtail = NULL;
	} else
		hand_over(j);	/* whoever waits leads the next batch */
	prt_writer_free(&buf);
	return fin;
}

/* A record queued by jnl_append_begin() or jnl_append_async(). */
struct jnl_pending {
	struct jnl_waiter w;
	char *text;
};

static void
pending_free(struct jnl_pending *p)
{
	if (p->w.done_fn == NULL)
		pthread_cond_destroy(&p->w.cv);
	free(p->text);
	free(p);
}

/*
 * Completes async waiters that lead() returned, in seq order, without mu:
 * a callback may append again (a refusal) or take its caller's locks.
 */
static void
run_done(struct jnl_waiter *fin)
{
	struct jnl_waiter *w, *next;

	for (w = fin; w != NULL; w = next) {
		next = w->next;
		w->done_fn(w->done_arg, w->result, w->seq, w->hash,
		    w->result == 0 ? &w->pos : NULL);
		/* w is the first member of its jnl_pending. */
		pending_free((struct jnl_pending *)(void *)w);
	}
}

/* lead() and run_done(): called and returns with mu held. */
static void
lead_and_complete(struct jnl *j)
{
	struct jnl_waiter *fin = lead(j);

	if (fin != NULL) {
		pthread_mutex_unlock(&j->mu);
		run_done(fin);
		pthread_mutex_lock(&j->mu);
	}
}

/* Queues w under mu; 0 or ERR_IO when the journal already failed. */
static int
enqueue(struct jnl *j, struct jnl_waiter *w)
{
	if (j->failed)
		return ERR_IO;
	if (j->qtail != NULL)
		j->qtail->next = w;
	else
		j->qhead = w;
	j->qtail = w;
	/* Nobody waits on an async record: wake jnl_lead_wait()'s thread. */
	if (w->done_fn != NULL && !j->writing)
		pthread_cond_signal(&j->work);
	return 0;
}

/* Under mu: leads batches or waits until w is durable (or failed). */
static int
wait_done(struct jnl *j, struct jnl_waiter *w)
{
	while (!w->done) {
		if (!j->writing)
			lead_and_complete(j);
		else
			pthread_cond_wait(&w->cv, &j->mu);
	}
	return w->result;
}

int
jnl_append_text(struct jnl *j, uint64_t *seq, uint8_t hash[32],
    const char *text, size_t len, uint64_t max_seq)
{
	struct jnl_waiter w;
	int r;

	if (seq != NULL)
		*seq = 0;
	if (hash != NULL)
		memset(hash, 0, 32);
	memset(&w, 0, sizeof(w));
	w.text = text;
	w.len = len;
	w.max_seq = max_seq;
	pthread_cond_init(&w.cv, NULL);

	pthread_mutex_lock(&j->mu);
	if ((r = enqueue(j, &w)) == 0)
		r = wait_done(j, &w);
	pthread_mutex_unlock(&j->mu);
	pthread_cond_destroy(&w.cv);
	if (r == 0) {
		if (seq != NULL)
			*seq = w.seq;
		if (hash != NULL)
			memcpy(hash, w.hash, 32);
	}
	return r;
}

int
jnl_append_begin(struct jnl *j, struct jnl_pending **out, const json_t *body)
{
	struct jnl_pending *p;
	size_t len;
	int r;

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return ERR_NOMEM;
	if ((r = jnl_fmt_body(&p->text, &len, body, 0)) != 0) {
		free(p);
		return r;
	}
	p->w.text = p->text;
	p->w.len = len;
	pthread_cond_init(&p->w.cv, NULL);
	pthread_mutex_lock(&j->mu);
	r = enqueue(j, &p->w);
	pthread_mutex_unlock(&j->mu);
	if (r != 0) {
		pending_free(p);
		return r;
	}
	*out = p;
	return 0;
}

int
jnl_append_end(struct jnl *j, struct jnl_pending *p, uint64_t *seq,
    uint8_t hash[32])
{
	return jnl_append_end_pos(j, p, seq, hash, NULL);
}

int
jnl_append_end_pos(struct jnl *j, struct jnl_pending *p, uint64_t *seq,
    uint8_t hash[32], struct jnl_pos *pos)
{
	int r;

	if (seq != NULL)
		*seq = 0;
	if (hash != NULL)
		memset(hash, 0, 32);
	if (pos != NULL)
		memset(pos, 0, sizeof(*pos));
	pthread_mutex_lock(&j->mu);
	r = wait_done(j, &p->w);
	pthread_mutex_unlock(&j->mu);
	if (r == 0) {
		if (seq != NULL)
			*seq = p->w.seq;
		if (hash != NULL)
			memcpy(hash, p->w.hash, 32);
		if (pos != NULL)
			*pos = p->w.pos;
	}
	pending_free(p);
	return r;
}

int
jnl_append_async(struct jnl *j, const json_t *body, jnl_done_fn done,
    void *arg)
{
	struct jnl_pending *p;
	size_t len;
	int r;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return ERR_NOMEM;
	if ((r = jnl_fmt_body(&p->text, &len, body, 0)) != 0) {
		free(p);
		return r;
	}
	p->w.text = p->text;
	p->w.len = len;
	p->w.done_fn = done;
	p->w.done_arg = arg;
	pthread_mutex_lock(&j->mu);
	r = enqueue(j, &p->w);
	pthread_mutex_unlock(&j->mu);
	if (r != 0)
		pending_free(p);
	return r;
}

int
jnl_lead_wait(struct jnl *j)
{
	int r;

	pthread_mutex_lock(&j->mu);
	/* Drain before stopping: every queued record gets its callback. */
	while ((j->qhead == NULL || j->writing) &&
	    !(j->lead_stop && j->qhead == NULL))
		pthread_cond_wait(&j->work, &j->mu);
	r = j->qhead != NULL && !j->writing ? 0 : ERR_NOT_FOUND;
	pthread_mutex_unlock(&j->mu);
	return r;
}

void
jnl_lead(struct jnl *j)
{
	pthread_mutex_lock(&j->mu);
	if (j->qhead != NULL && !j->writing)
		lead_and_complete(j);
	pthread_mutex_unlock(&j->mu);
}

void
jnl_lead_stop(struct jnl *j)
{
	pthread_mutex_lock(&j->mu);
	j->lead_stop = 1;
	pthread_cond_broadcast(&j->work);
	pthread_mutex_unlock(&j->mu);
}

int
jnl_append(struct jnl *j, uint64_t *seq, uint8_t hash[32], const json_t *body)
{
	char *text = NULL;
	size_t len;
	int r;

	if (seq != NULL)
		*seq = 0;
	if (hash != NULL)
		memset(hash, 0, 32);
	if ((r = jnl_fmt_body(&text, &len, body, 0)) != 0)
		goto out;
	r = jnl_append_text(j, seq, hash, text, len, 0);
out:
	free(text);
	return r;
}
