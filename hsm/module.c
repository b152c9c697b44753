/* module.c: load a PKCS#11 module by path, once per process, and initialise it for threads. */
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "hsm/internal.h"

/*
 * A module may be initialised only once per process and C_Finalize ends it
 * for everybody, so every user of the same library shares one entry.
 */
static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static struct hsm_module *registry;

static int
module_load(struct hsm_module *m)
{
	CK_C_GetFunctionList get_list;
	CK_C_INITIALIZE_ARGS args;
	CK_RV rv;
	int r = ERR_HSM_MODULE;

	/*
	 * RTLD_NODELETE: SoftHSM's OpenSSL backend keeps process-wide state
	 * that does not survive being unmapped and mapped again.
	 */
	m->dl = dlopen(m->path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
	if (m->dl == NULL) {
		hsm_error_set("dlopen: %s", dlerror());
		goto out;
	}
	*(void **)&get_list = dlsym(m->dl, "C_GetFunctionList");
	if (get_list == NULL) {
		hsm_error_set("%s has no C_GetFunctionList", m->path);
		goto out;
	}
	if ((rv = get_list(&m->f)) != CKR_OK) {
		hsm_fail("C_GetFunctionList", rv);
		goto out;
	}
	if (m->f == NULL) {
		hsm_error_set("C_GetFunctionList returned no list");
		goto out;
	}
	/* No mutex callbacks: the module uses OS locks, so sessions may run in parallel. */
	memset(&args, 0, sizeof(args));
	args.flags = CKF_OS_LOCKING_OK;
	rv = m->f->C_Initialize(&args);
	if (rv == CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		/* Someone else in the process owns it; they finalise it. */
		m->finalize = 0;
	} else if (rv != CKR_OK) {
		hsm_fail("C_Initialize", rv);
		goto out;
	} else {
		m->finalize = 1;
	}
	r = 0;
out:
	if (r != 0 && m->dl != NULL) {
		dlclose(m->dl);
		m->dl = NULL;
	}
	return r;
}

int
hsm_module_get(struct hsm_module **out, const char *path)
{
	struct hsm_module *m = NULL;
	char *real = NULL;
	int r = ERR_HSM_MODULE;

	*out = NULL;
	if (path == NULL)
		path = HSM_DEFAULT_MODULE;
	/* Without a '/' dlopen would search LD_LIBRARY_PATH and friends. */
	if (strchr(path, '/') == NULL) {
		hsm_error_set("module path \"%s\" must contain a '/'", path);
		goto out;
	}
	if ((real = realpath(path, NULL)) == NULL) {
		hsm_error_set("%s: %s", path, strerror(errno));
		goto out;
	}
	pthread_mutex_lock(&registry_mu);
	for (m = registry; m != NULL; m = m->next)
		if (strcmp(m->path, real) == 0)
			break;
	if (m != NULL) {
		m->refs++;
		r = 0;
	} else if ((m = calloc(1, sizeof(*m))) == NULL) {
		r = ERR_NOMEM;
	} else {
		m->path = real;
		real = NULL;
		if ((r = module_load(m)) == 0) {
			m->refs = 1;
			m->next = registry;
			registry = m;
		} else {
			free(m->path);
			free(m);
			m = NULL;
		}
	}
	pthread_mutex_unlock(&registry_mu);
	if (r == 0)
		*out = m;
out:
	free(real);
	return r;
}

void
hsm_module_put(struct hsm_module *m)
{
	struct hsm_module **pp;

	if (m == NULL)
		return;
	pthread_mutex_lock(&registry_mu);
	if (--m->refs == 0) {
		for (pp = &registry; *pp != NULL; pp = &(*pp)->next) {
			if (*pp == m) {
				*pp = m->next;
				break;
			}
		}
		if (m->finalize)
			(void)m->f->C_Finalize(NULL);
		dlclose(m->dl);
		free(m->path);
		free(m);
	}
	pthread_mutex_unlock(&registry_mu);
}

int
hsm_slot_list(CK_FUNCTION_LIST *f, CK_SLOT_ID **slots, CK_ULONG *n)
{
	CK_SLOT_ID *list = NULL, *grown;
	CK_ULONG count = 0;
	CK_RV rv;
	int r;

	*slots = NULL;
	*n = 0;
	/* Slots can appear between the two calls (SoftHSM adds a blank one). */
	for (;;) {
		if ((rv = f->C_GetSlotList(CK_TRUE, NULL, &count)) != CKR_OK) {
			r = hsm_fail("C_GetSlotList", rv);
			goto out;
		}
		grown = realloc(list, (count + 1) * sizeof(*list));
		if (grown == NULL) {
			r = ERR_NOMEM;
			goto out;
		}
		list = grown;
		rv = f->C_GetSlotList(CK_TRUE, list, &count);
		if (rv == CKR_OK)
			break;
		if (rv != CKR_BUFFER_TOO_SMALL) {
			r = hsm_fail("C_GetSlotList", rv);
			goto out;
		}
	}
	*slots = list;
	*n = count;
	list = NULL;
	r = 0;
out:
	free(list);
	return r;
}
