/*
 * threads.c - how many threads the math may use.
 */
#include <omp.h>
#include <stdlib.h>

#include "cnn.h"

static int nthreads; /* 0: not chosen yet */

void cnn_set_threads(int n)
{
	nthreads = n > 0 ? n : omp_get_num_procs();
}

int cnn_threads(void)
{
	if (nthreads == 0) {
		const char *env = getenv("CNN_THREADS");
		cnn_set_threads(env ? atoi(env) : 0);
	}
	return nthreads;
}
