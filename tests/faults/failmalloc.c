/*
 * failmalloc.c - an LD_PRELOAD library that makes allocations fail, so that
 * the tests can show that running out of memory ends in one line and exit
 * 1, never in a crash or a partial file.
 *
 *   CNN_FAIL_ALLOC_OVER=BYTES  every request of more than BYTES fails
 *   CNN_FAIL_ALLOC_AT=N        the Nth request (from 1) fails, once
 *
 * glibc's own allocator does the work (__libc_malloc and friends), so the
 * library needs no dlsym, which would itself allocate.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void *__libc_memalign(size_t align, size_t size);

static atomic_long requests;

static long env_long(const char *name)
{
	const char *v = getenv(name);

	return v ? atol(v) : -1;
}

static int fails(size_t size)
{
	static long over = -2, at = -2;
	long n = atomic_fetch_add(&requests, 1) + 1;

	if (over == -2) {
		over = env_long("CNN_FAIL_ALLOC_OVER");
		at = env_long("CNN_FAIL_ALLOC_AT");
	}
	if ((over >= 0 && size > (size_t)over) || n == at) {
		errno = ENOMEM;
		return 1;
	}
	return 0;
}

void *malloc(size_t size)
{
	return fails(size) ? NULL : __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
	return fails(n * size) ? NULL : __libc_calloc(n, size);
}

void *realloc(void *p, size_t size)
{
	return fails(size) ? NULL : __libc_realloc(p, size);
}

void *aligned_alloc(size_t align, size_t size)
{
	return fails(size) ? NULL : __libc_memalign(align, size);
}

void *memalign(size_t align, size_t size)
{
	return fails(size) ? NULL : __libc_memalign(align, size);
}

int posix_memalign(void **p, size_t align, size_t size)
{
	if (fails(size))
		return ENOMEM;
	*p = __libc_memalign(align, size);
	return *p ? 0 : ENOMEM;
}
