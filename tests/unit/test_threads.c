/*
 * test_threads.c - libcnn's crew of threads (lib/core/threads.c): a parallel for
 * takes every index once, the caller takes over the pieces of a thread
 * held up, a call from inside a call runs serially, two of the program's
 * threads may call at once, and workers with no work sleep.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tap.h"
#include "core/threads.h"

struct cover {
	atomic_int *seen;
	atomic_int bad_thread;
	int nt;
};

static void mark(void *ctx, long i0, long i1, int t)
{
	struct cover *c = ctx;

	if (t < 0 || t >= c->nt)
		atomic_store(&c->bad_thread, 1);
	for (long i = i0; i < i1; i++)
		atomic_fetch_add(&c->seen[i], 1);
}

/* Does every n of sizes on 1..9 threads take every index once? */
static int covers(void)
{
	static const long sizes[] = { 1, 2, 3, 5, 7, 8, 63, 64, 65, 1000, 4097 };
	atomic_int *seen = malloc(sizeof *seen * 4097);
	int ok = 1;

	for (int nt = 1; nt <= 9 && ok; nt++)
		for (size_t s = 0; s < sizeof sizes / sizeof *sizes && ok; s++) {
			struct cover c = { seen, 0, nt };
			long n = sizes[s];

			for (long i = 0; i < n; i++)
				atomic_init(&seen[i], 0);
			cnn_parallel_for(nt, n, mark, &c);
			for (long i = 0; i < n; i++)
				ok &= atomic_load(&seen[i]) == 1;
			ok &= !atomic_load(&c.bad_thread);
		}
	free(seen);
	return ok;
}

static void cover_once(void)
{
	tap_ok(covers(), "parallel for takes each index exactly once (n 1..4097, 1..9 threads)");
}

static void static_shares(void)
{
	int ok = 1;

	/* OpenMP's schedule(static): 10 over 4 is 3, 3, 2, 2 */
	for (int t = 0; t < 4; t++) {
		long i0, i1;

		cnn_static_share(10, t, 4, &i0, &i1);
		ok &= i0 == (long[]){ 0, 3, 6, 8 }[t] && i1 == (long[]){ 3, 6, 8, 10 }[t];
	}
	tap_ok(ok, "static shares as OpenMP's: 10 over 4 threads is 3, 3, 2, 2");
}

/* Pieces of 1 ms, and a worker held up for 100 ms in each piece it
 * takes: the caller takes the rest of the worker's share. */
enum { PIECES = 16 };

struct held {
	atomic_int by_caller, ran[PIECES];
};

static void hold_up(void *ctx, long piece, int t)
{
	struct held *h = ctx;
	struct timespec piece_time = { 0, 1000 * 1000 }, held = { 0, 100 * 1000 * 1000 };

	atomic_fetch_add(&h->ran[piece], 1);
	if (t == 0)
		atomic_fetch_add(&h->by_caller, 1);
	nanosleep(t == 0 ? &piece_time : &held, NULL);
}

static void taken_over(void)
{
	struct held h = { 0 };
	int once = 1;

	for (int i = 0; i < PIECES; i++)
		atomic_init(&h.ran[i], 0);
	cnn_parallel_pieces(2, PIECES, hold_up, &h);
	for (int i = 0; i < PIECES; i++)
		once &= atomic_load(&h.ran[i]) == 1;
	tap_ok(once && atomic_load(&h.by_caller) >= PIECES - 1,
	       "the caller takes the pieces of a thread held up (%d of %d)",
	       atomic_load(&h.by_caller), PIECES);
}

struct nest {
	atomic_int inner_calls, inner_wrong;
};

/* The pieces of a call from inside a piece run in order on its thread. */
static void inner(void *ctx, long piece, int t)
{
	struct nest *n = ctx;

	if (t != 0 || piece != atomic_load(&n->inner_calls) % 4)
		atomic_store(&n->inner_wrong, 1);
	atomic_fetch_add(&n->inner_calls, 1);
}

static void outer(void *ctx, long piece, int t)
{
	struct nest mine = { 0, 0 }, *all = ctx;

	(void)piece, (void)t;
	cnn_parallel_pieces(4, 4, inner, &mine);
	atomic_fetch_add(&all->inner_calls, atomic_load(&mine.inner_calls));
	if (atomic_load(&mine.inner_wrong))
		atomic_store(&all->inner_wrong, 1);
}

static void nested(void)
{
	struct nest n = { 0, 0 };

	cnn_parallel_pieces(3, 6, outer, &n);
	tap_ok(atomic_load(&n.inner_calls) == 24 && !atomic_load(&n.inner_wrong),
	       "nested calls run serially, in order, on the calling thread (%d pieces)",
	       atomic_load(&n.inner_calls));
}

/* Two of the program's threads calling at once: one has the crew, the
 * other runs its pieces itself. */
static void *cover_from_a_thread(void *ok)
{
	*(int *)ok = covers();
	return NULL;
}

static void concurrent(void)
{
	pthread_t other;
	int ok = 0, started = !pthread_create(&other, NULL, cover_from_a_thread, &ok);

	ok &= covers();
	if (started)
		pthread_join(other, NULL);
	tap_ok(started && ok, "two threads calling at once: each index once for both");
}

static double seconds(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void spin_a_little(void *ctx, long i0, long i1, int t)
{
	volatile double *sink = ctx;

	for (long i = i0; i < i1; i++)
		sink[t] += (double)i * i;
}

/* After a call, 50 ms of idling costs the process (almost) no CPU: the
 * workers sleep instead of spinning.  OpenMP's spin took the whole 50 ms
 * of each of them. */
static void workers_sleep(void)
{
	volatile double sink[4] = { 0 };
	struct timespec idle = { 0, 50 * 1000 * 1000 };
	double cpu0, cpu1, wall;

	cnn_parallel_for(4, 1 << 20, spin_a_little, (void *)sink);
	cpu0 = seconds(CLOCK_PROCESS_CPUTIME_ID);
	wall = seconds(CLOCK_MONOTONIC);
	nanosleep(&idle, NULL);
	cpu1 = seconds(CLOCK_PROCESS_CPUTIME_ID);
	wall = seconds(CLOCK_MONOTONIC) - wall;
	tap_ok(cpu1 - cpu0 < 0.005, "the workers idle for %.0f ms used %.2f ms of CPU",
	       wall * 1e3, (cpu1 - cpu0) * 1e3);
}

int main(void)
{
	cover_once();
	static_shares();
	taken_over();
	nested();
	concurrent();
	workers_sleep();
	return tap_done();
}
