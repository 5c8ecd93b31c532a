/*
 * threads.h - libcnn's own crew of threads for the math; not part of the
 * public interface.
 *
 * A parallel call cuts its work into pieces that the caller and up to
 * nt - 1 workers take from a shared counter, each thread its own share
 * first, then what the others left.  The workers are made once, on first
 * need, and sleep when there is no work (after a spin of some
 * microseconds); a worker that comes when the pieces are gone does
 * nothing.  So a core that is busy with another process or descheduled
 * never holds up the others, and never makes them burn its time.
 *
 * Which thread runs a piece depends on timing, the pieces themselves do
 * not: results depend only on how the caller cuts its work.  A call from
 * inside a piece, or while another of the program's threads is in one,
 * runs its pieces in order on the calling thread.
 */
#ifndef CNN_THREADS_INTERNAL_H
#define CNN_THREADS_INTERNAL_H

/* Piece number piece of a parallel call, run by thread t (0 the caller;
 * t < the call's nt, for scratch space of each thread). */
typedef void cnn_piece(void *ctx, long piece, int t);

/* fn for every piece in [0, pieces) on up to nt threads; returns when all
 * are done. */
void cnn_parallel_pieces(int nt, long pieces, cnn_piece *fn, void *ctx);

/* A loop body over indices [i0, i1), run by thread t. */
typedef void cnn_range(void *ctx, long i0, long i1, int t);

/* body over [0, n) on up to nt threads, in a few contiguous ranges per
 * thread; for loops whose results do not depend on how they are cut. */
void cnn_parallel_for(int nt, long n, cnn_range *body, void *ctx);

/* Share t of [0, n) cut in nt, as OpenMP's schedule(static) cuts: in
 * order, the first n % nt one longer. */
void cnn_static_share(long n, int t, int nt, long *i0, long *i1);

#endif
