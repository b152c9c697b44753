/* api_events.c: GET /v1/events, the outbox as a pull feed, oldest first. */
#include "orchestratord/api_internal.h"

#include <stdlib.h>

#include <jansson.h>

#include "common/err.h"
#include "orchestratord/store.h"
#include "orchestratord/validate.h"

void
api_events_list(struct app *app, const struct api_call *call,
    const struct api_request *req, struct api_reply *rep)
{
	struct outbox_event *ev = NULL;
	struct val_err e;
	struct db *d = NULL;
	json_error_t jerr;
	json_t *o = NULL, *arr, *item, *payload;
	int64_t after;
	size_t n = 0, i;
	int first, r;

	if (api_check_args(call, req, rep) != 0)
		goto out;
	if (val_event_after(&after, &e, api_get_arg(req, "after")) != 0 ||
	    val_first(&first, &e, api_get_arg(req, "first"), VAL_LIST_DEFAULT,
	    STORE_LIST_MAX) != 0) {
		api_reply_val(rep, req, &e);
		goto out;
	}
	if ((ev = calloc((size_t)first, sizeof(*ev))) == NULL) {
		api_error(rep, req->request_id, 500, "INTERNAL", "out of memory");
		goto out;
	}
	if (api_db_get(app, &d, req, rep) != 0)
		goto out;
	r = store_events(d, after, first, ev, &n);
	api_db_put(app, &d);
	if (r != 0) {
		api_reply_db(rep, req, r, "store_events");
		goto out;
	}
	if ((o = json_object()) == NULL || (arr = json_array()) == NULL) {
		api_error(rep, req->request_id, 500, "INTERNAL", "out of memory");
		goto out;
	}
	json_object_set_new(o, "events", arr);
	for (i = 0; i < n; i++) {
		if ((item = json_object()) == NULL)
			continue;
		json_object_set_new(item, "id", json_integer(ev[i].id));
		api_set_str(item, "request_id", ev[i].request_id, 0);
		api_set_str(item, "event", ev[i].event, 0);
		/* The outbox keeps jsonb: show it as the object it is. */
		if ((payload = json_loads(ev[i].payload, 0, &jerr)) == NULL)
			api_set_str(item, "payload", ev[i].payload, 0);
		else
			json_object_set_new(item, "payload", payload);
		json_object_set_new(item, "created_at",
		    api_json_time_ms(ev[i].created_at));
		json_array_append_new(arr, item);
	}
	/* Where to continue: after the last event, or where this page began. */
	json_object_set_new(o, "next", json_integer(n > 0 ? ev[n - 1].id :
	    after));
	api_reply_json(rep, 200, o);
	o = NULL;
out:
	json_decref(o);
	api_db_put(app, &d);
	free(ev);
}
