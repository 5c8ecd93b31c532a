/*
 * threads.c - how many threads the math may use, and the crew that runs
 * its parallel calls (threads.h).
 *
 * Waiting threads spin for SPIN_NS, which covers the gaps between the
 * parallel calls of a training step, then sleep on a futex.  Spinning
 * longer is what made OpenMP slow on a shared machine: with another
 * process on one core, the threads that had finished spun on through the
 * time slices that the one left behind needed.  A thread does not spin
 * at all while the one it waits for was last seen on its own processor,
 * where spinning could only take that one's time.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cnn.h"
#include "core/threads.h"

enum { SPIN_NS = 50 * 1000 };

static int nthreads; /* 0: not chosen yet */

static int processors(void)
{
	cpu_set_t set;
	long n;

	if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
		return CPU_COUNT(&set);
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

void cnn_set_threads(int n)
{
	nthreads = n > 0 ? n : processors();
}

int cnn_threads(void)
{
	if (nthreads == 0) {
		const char *env = getenv("CNN_THREADS");
		cnn_set_threads(env ? atoi(env) : 0);
	}
	return nthreads;
}

/* ------------------------------------------------------ waiting and waking */

/* A word that one side changes and the other waits on, and how many sleep
 * on it (so that a change wakes no one when no one sleeps).  On its own
 * cache line, away from the others. */
struct signal {
	_Alignas(64) atomic_uint word;
	atomic_int sleepers;
};

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static inline void relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* Return once s->word is no longer seen; spin first if spin. */
static void await(struct signal *s, unsigned seen, int spin)
{
	long long until = 0;

	for (int i = 0; spin; i++) {
		if (atomic_load_explicit(&s->word, memory_order_acquire) != seen)
			return;
		if (i % 64 == 0) {
			long long t = now_ns();
			if (!until)
				until = t + SPIN_NS;
			else if (t > until)
				break;
		}
		relax();
	}
	/* The sleeper count goes up before the word is read again and the
	 * word changes before the count is read (all sequentially
	 * consistent): a change either is seen here or finds a sleeper to
	 * wake.  The kernel sleeps only while the word is still seen. */
	atomic_fetch_add(&s->sleepers, 1);
	while (atomic_load(&s->word) == seen)
		syscall(SYS_futex, &s->word, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);
	atomic_fetch_sub(&s->sleepers, 1);
}

/* Set the word to value (a new one) and wake whoever sleeps on it. */
static void publish(struct signal *s, unsigned value)
{
	atomic_store(&s->word, value);
	if (atomic_load(&s->sleepers))
		syscall(SYS_futex, &s->word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

/* ---------------------------------------------------------------- the crew */

/* Pieces [next, end) not taken yet, first offered to one thread, and
 * the processor that thread took one on (-1: none yet). */
struct slot {
	_Alignas(64) atomic_long next;
	long end;
	atomic_int cpu;
};

/* A call's entry: its number in the high 32 bits, CLOSED once the caller
 * has finished its own part, and the workers inside in the low bits.  A
 * worker comes in only while its call is open, so that the caller waits
 * for those that came, never for one that did not get a processor in
 * time: it takes their pieces instead. */
#define CLOSED (1ULL << 31)
#define INSIDE (CLOSED - 1)

static struct {
	pthread_mutex_t lock;	/* held by the caller of a parallel call */
	struct signal **go;	/* worker i + 1 is called when go[i] changes */
	struct slot *slots;	/* one per thread of the call */
	int workers, nslots;
	unsigned calls;
	_Alignas(64) atomic_ullong entry;
	atomic_int caller_cpu;	/* where the last call ended */
	struct signal done;	/* the last worker left a closed call */
	cnn_piece *fn;		/* the call, for the workers that come in */
	void *ctx;
	int nt;
} crew = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* Is this thread inside a parallel call?  Workers always are. */
static __thread int inside;

/* Run pieces as thread t: its own first, then the others' that are left. */
static void take(int t)
{
	atomic_store(&crew.slots[t].cpu, sched_getcpu());
	for (int k = 0; k < crew.nt; k++) {
		struct slot *s = &crew.slots[(t + k) % crew.nt];

		for (long p; (p = atomic_fetch_add(&s->next, 1)) < s->end;)
			crew.fn(crew.ctx, p, t);
	}
}

static int come_in(unsigned call)
{
	unsigned long long e = atomic_load(&crew.entry);

	while (e >> 32 == call && !(e & CLOSED))
		if (atomic_compare_exchange_weak(&crew.entry, &e, e + 1))
			return 1;
	return 0;
}

static void leave(void)
{
	unsigned long long e = atomic_fetch_sub(&crew.entry, 1);

	if ((e & CLOSED) && (e & INSIDE) == 1)
		publish(&crew.done, atomic_load(&crew.done.word) + 1);
}

struct worker_start {
	struct signal *go;
	int t;
};

static void *worker(void *arg)
{
	struct worker_start start = *(struct worker_start *)arg;
	unsigned seen = 0;

	free(arg);
	inside = 1;
	for (;;) {
		await(start.go, seen, sched_getcpu() != atomic_load(&crew.caller_cpu));
		seen = atomic_load(&start.go->word);
		if (come_in(seen)) {
			take(start.t);
			leave();
		}
	}
	return NULL;
}

/* Workers 1 .. n-1, made as first needed, with the lock held; fewer if
 * no more can be made.  Workers block signals: the program's own threads
 * take them. */
static void hire_workers(int n)
{
	sigset_t all, old;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	while (crew.workers < n - 1) {
		struct signal **go = realloc(crew.go, sizeof *go * (crew.workers + 1));
		struct worker_start *start = malloc(sizeof *start);
		pthread_t id;

		if (go)
			crew.go = go;
		if (!go || !start || !(go[crew.workers] = aligned_alloc(64, sizeof **go))) {
			free(start);
			break;
		}
		atomic_init(&go[crew.workers]->word, 0);
		atomic_init(&go[crew.workers]->sleepers, 0);
		*start = (struct worker_start){ go[crew.workers], crew.workers + 1 };
		if (pthread_create(&id, NULL, worker, start)) {
			free(go[crew.workers]);
			free(start);
			break;
		}
		pthread_detach(id);
		crew.workers++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* The threads a call of n may have, with the lock held: the workers that
 * could be made and the caller, each with a slot; 1 (or 0) when memory
 * ran out. */
static int hire(int n)
{
	if (crew.workers < n - 1)
		hire_workers(n);
	if (crew.nslots < crew.workers + 1) {
		struct slot *slots = aligned_alloc(64, sizeof *slots * (crew.workers + 1));

		if (slots) {
			free(crew.slots);
			crew.slots = slots;
			crew.nslots = crew.workers + 1;
		}
	}
	n = n < crew.workers + 1 ? n : crew.workers + 1;
	return n < crew.nslots ? n : crew.nslots;
}

/* Did a worker of the call take a piece on the caller's processor? */
static int shares_processor(int nt)
{
	int cpu = sched_getcpu();

	for (int t = 1; t < nt; t++)
		if (atomic_load(&crew.slots[t].cpu) == cpu)
			return 1;
	return 0;
}

static void serially(long pieces, cnn_piece *fn, void *ctx)
{
	int outer = inside;

	inside = 1;
	for (long p = 0; p < pieces; p++)
		fn(ctx, p, 0);
	inside = outer;
}

void cnn_parallel_pieces(int nt, long pieces, cnn_piece *fn, void *ctx)
{
	unsigned done;

	if (nt > pieces)
		nt = (int)pieces;
	/* Inside a call, or while another of the program's threads has the
	 * crew: serially, with the same pieces. */
	if (nt <= 1 || inside || pthread_mutex_trylock(&crew.lock)) {
		serially(pieces, fn, ctx);
		return;
	}
	/* Out of memory for workers or their slots: this thread alone. */
	if ((nt = hire(nt)) <= 1) {
		pthread_mutex_unlock(&crew.lock);
		serially(pieces, fn, ctx);
		return;
	}
	crew.fn = fn, crew.ctx = ctx, crew.nt = nt;
	for (int t = 0; t < nt; t++) {
		long p0, p1;

		cnn_static_share(pieces, t, nt, &p0, &p1);
		atomic_store(&crew.slots[t].next, p0);
		crew.slots[t].end = p1;
		atomic_store(&crew.slots[t].cpu, -1);
	}
	atomic_store(&crew.entry, (unsigned long long)++crew.calls << 32);
	for (int i = 0; i < nt - 1; i++)
		publish(crew.go[i], crew.calls);
	inside = 1;
	take(0);
	inside = 0;
	done = atomic_load(&crew.done.word);
	atomic_fetch_or(&crew.entry, CLOSED);
	while (atomic_load(&crew.entry) & INSIDE) {
		await(&crew.done, done, !shares_processor(nt));
		done = atomic_load(&crew.done.word);
	}
	atomic_store(&crew.caller_cpu, sched_getcpu());
	pthread_mutex_unlock(&crew.lock);
}

void cnn_static_share(long n, int t, int nt, long *i0, long *i1)
{
	long q = n / nt, r = n % nt;

	*i0 = q * t + (t < r ? t : r);
	*i1 = *i0 + q + (t < r);
}

/* Pieces of a loop per thread: enough that a thread held up holds up
 * little, few enough that taking them costs nothing. */
enum { PIECES_PER_THREAD = 4 };

struct loop {
	cnn_range *body;
	void *ctx;
	long n, pieces;
};

static void loop_piece(void *ctx, long piece, int t)
{
	const struct loop *l = ctx;
	long i0, i1;

	cnn_static_share(l->n, (int)piece, (int)l->pieces, &i0, &i1);
	l->body(l->ctx, i0, i1, t);
}

void cnn_parallel_for(int nt, long n, cnn_range *body, void *ctx)
{
	struct loop l = { body, ctx, n, 1 };

	if (n <= 0)
		return;
	if (nt > 1)
		l.pieces = (long)nt * PIECES_PER_THREAD < n ? (long)nt * PIECES_PER_THREAD : n;
	cnn_parallel_pieces(nt, l.pieces, loop_piece, &l);
}
