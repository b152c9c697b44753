/* health.c: the failures signerd leaves for, and their exit statuses (D63). */
#include "signerd/health.h"

#include <stdio.h>

#include "common/err.h"
#include "common/log.h"

int
sd_hsm_usable(struct sd_ctx *sd, char *why, size_t cap)
{
	size_t i;
	int r;

	if ((r = hsm_probe(sd->hsm)) != 0) {
		snprintf(why, cap, "the HSM is not usable: %s (%s)",
		    err_str(r), hsm_last_error());
		return r;
	}
	/* A token re-initialised under us keeps sessions but not keys. */
	for (i = 0; i < sd->nkeys; i++)
		if ((r = hsm_key_probe(sd->hsm, &sd->keys[i].key)) != 0) {
			snprintf(why, cap, "key %s is not usable: %s (%s)",
			    sd->keys[i].name, err_str(r), hsm_last_error());
			return r;
		}
	return 0;
}

enum sd_exit
sd_exit_status_of(int err, enum sd_exit dflt)
{
	switch (err) {
	case ERR_HSM:
	case ERR_HSM_MODULE:
	case ERR_HSM_NO_TOKEN:
	case ERR_HSM_NOT_LOGGED_IN:
		return SD_EXIT_HSM;
	case ERR_HSM_URI:
	case ERR_HSM_NO_KEY:
	case ERR_HSM_AMBIGUOUS:
	case ERR_HSM_PIN_INCORRECT:
	case ERR_HSM_PIN_LOCKED:
	case ERR_HSM_PIN_FILE:
	case ERR_HSM_PIN_MODE:
	case ERR_HSM_KEY_WEAK:
	case ERR_HSM_KEY_TYPE:
		return SD_EXIT_CONFIG;
	case ERR_NOMEM:
		return SD_EXIT_FAILURE;
	default:
		return dflt;
	}
}

enum sd_exit
sd_health_tick(struct sd_ctx *sd, time_t now)
{
	char why[300];

	if (atomic_load(&sd->journal_failed)) {
		log_error("leaving: the journal failed a write (disk full or "
		    "I/O error); nothing can be made durable until a new "
		    "signerd opens it");
		return SD_EXIT_JOURNAL_IO;
	}
	if (!atomic_exchange(&sd->hsm_failed, 0) &&
	    now - sd->hsm_probed < SD_HSM_PROBE_SECONDS)
		return SD_EXIT_STOPPED;
	sd->hsm_probed = now;
	if (sd_hsm_usable(sd, why, sizeof(why)) == 0)
		return SD_EXIT_STOPPED;
	log_error("leaving: %s; the PIN was wiped after login, so only a "
	    "restart logs in again", why);
	return SD_EXIT_HSM;
}
