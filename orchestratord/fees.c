/* fees.c: the node's fee data, fetched once per interval and shared by the workers. */
#include "orchestratord/fees.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "common/err.h"

struct fees {
	pthread_mutex_t mu;	/* held across a fetch: others wait for it */
	int max_age_ms;
	int have;
	int64_t fetched_ms;	/* monotonic */
	u256 base_fee;
	u256 priority_fee;
};

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
fees_new(struct fees **out, int max_age_ms)
{
	struct fees *f;

	*out = NULL;
	if (max_age_ms < 0)
		return ERR_INVALID_ARG;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return ERR_NOMEM;
	pthread_mutex_init(&f->mu, NULL);
	f->max_age_ms = max_age_ms;
	*out = f;
	return 0;
}

void
fees_free(struct fees *f)
{
	if (f == NULL)
		return;
	pthread_mutex_destroy(&f->mu);
	free(f);
}

int
fees_get(struct fees *f, struct rpc_client *c, u256 *base_fee,
    u256 *priority_fee)
{
	int64_t now;
	int r = 0;

	pthread_mutex_lock(&f->mu);
	now = mono_ms();
	if (!f->have || now - f->fetched_ms > f->max_age_ms) {
		f->have = 0;
		if ((r = rpc_fees(c, &f->base_fee, &f->priority_fee)) == 0) {
			f->have = 1;
			f->fetched_ms = mono_ms();
		}
	}
	if (r == 0) {
		*base_fee = f->base_fee;
		*priority_fee = f->priority_fee;
	}
	pthread_mutex_unlock(&f->mu);
	return r;
}
