/* error.c: filling and printing struct jnl_error, the "where and why" of a failure. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "journal/internal.h"

int
jnl_err(struct jnl_error *e, int code, const char *segment, uint64_t offset,
    uint64_t seq, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return code;
	memset(e, 0, sizeof(*e));
	e->code = code;
	if (segment != NULL)
		snprintf(e->segment, sizeof(e->segment), "%s", segment);
	e->offset = offset;
	e->seq = seq;
	va_start(ap, fmt);
	vsnprintf(e->reason, sizeof(e->reason), fmt, ap);
	va_end(ap);
	return code;
}

const char *
jnl_error_format(char *buf, size_t cap, const struct jnl_error *e)
{
	if (cap == 0)
		return buf;
	if (e->segment[0] == '\0')
		snprintf(buf, cap, "%s", e->reason);
	else if (e->seq != 0)
		snprintf(buf, cap, "%s offset %llu seq %llu: %s", e->segment,
		    (unsigned long long)e->offset, (unsigned long long)e->seq,
		    e->reason);
	else
		snprintf(buf, cap, "%s offset %llu: %s", e->segment,
		    (unsigned long long)e->offset, e->reason);
	return buf;
}
