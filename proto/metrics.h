/*
 * metrics.h: signerd's counters (METRICS_REP, proto/msg.h) as Prometheus
 * text: the one renderer, shared by `signerctl metrics` and
 * orchestratord's GET /metrics, so both print the same families with the
 * same names (docs/metrics.md).
 */
#ifndef PROTO_METRICS_H
#define PROTO_METRICS_H

#include "common/util.h"
#include "proto/buf.h"
#include "proto/msg.h"

/*
 * Appends the Prometheus text exposition (format 0.0.4) of m to w: a
 * HELP and a TYPE line then the samples of every signerd_* family,
 * signerd_up 1 first.  m NULL means signerd did not answer: signerd_up 0
 * alone, so that no stale family is shown as current.
 *
 * m must obey the rules prt_decode_metrics_rep checks (it is checked
 * again here, so nothing a decoder would refuse is ever printed): label
 * values are then asset symbols and [A-Z0-9_] names, which need no
 * escaping, and no label set repeats.  Returns 0, that check's error
 * (ERR_MALFORMED, ERR_TOO_LARGE, ERR_OVERFLOW) with nothing appended, or
 * the writer's error.
 */
int prt_metrics_text(struct prt_writer *w, const struct prt_metrics *m)
    WARN_UNUSED;

#endif
