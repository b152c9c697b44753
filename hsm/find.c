/* find.c: collect object handles with C_FindObjects, so no search stays open while they are read. */
#include <stdlib.h>

#include "common/err.h"
#include "hsm/internal.h"

int
hsm_find_objects(struct hsm *h, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE **objs,
    size_t *n, CK_ATTRIBUTE *tmpl, size_t ntmpl, size_t max)
{
	CK_OBJECT_HANDLE batch[16], *list = NULL, *grown;
	CK_ULONG got, i;
	size_t count = 0;
	CK_RV rv;
	int active = 0, r;

	*objs = NULL;
	*n = 0;
	if ((rv = h->f->C_FindObjectsInit(s, tmpl, ntmpl)) != CKR_OK) {
		r = hsm_fail("C_FindObjectsInit", rv);
		goto out;
	}
	active = 1;
	for (;;) {
		rv = h->f->C_FindObjects(s, batch, ARRAY_LEN(batch), &got);
		if (rv != CKR_OK) {
			r = hsm_fail("C_FindObjects", rv);
			goto out;
		}
		if (got == 0)
			break;
		grown = realloc(list, (count + got) * sizeof(*list));
		if (grown == NULL) {
			r = ERR_NOMEM;
			goto out;
		}
		list = grown;
		for (i = 0; i < got; i++)
			list[count++] = batch[i];
		if (max != 0 && count >= max)
			break;
	}
	*objs = list;
	*n = max != 0 && count > max ? max : count;
	list = NULL;
	r = 0;
out:
	/* The session can do nothing else until the search is finalised. */
	if (active && (rv = h->f->C_FindObjectsFinal(s)) != CKR_OK && r == 0) {
		r = hsm_fail("C_FindObjectsFinal", rv);
		free(*objs);
		*objs = NULL;
		*n = 0;
	}
	free(list);
	return r;
}
