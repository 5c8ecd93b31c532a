/*
 * vec.h - the vector type of the instruction set this file is compiled for,
 * for the sources in lib/simd only.  The kernels are written once with GCC
 * vector extensions; the width and the GEMM micro-tile come from here.
 */
#ifndef CNN_VEC_H
#define CNN_VEC_H

#include <string.h>
#if defined(CNN_ISA_avx512)
#include <immintrin.h>
#endif

#include "simd.h"

#if defined(CNN_ISA_avx512)
#define VL 16
#define GEMM_MR 8 /* 8 x 3 vectors: 24 accumulators of 32 registers */
#define GEMM_NV 3
#define DOT_MB 6 /* 6 x 4 dot-product accumulators, 6 + 1 operands */
#define DOT_NB 4
#define ISA(name) name##_avx512
#define ISA_NAME "avx512"
#elif defined(CNN_ISA_avx2)
#define VL 8
#define GEMM_MR 6 /* 6 x 2 vectors: 12 accumulators of 16 registers */
#define GEMM_NV 2
#define DOT_MB 3
#define DOT_NB 4
#define ISA(name) name##_avx2
#define ISA_NAME "avx2"
#elif defined(CNN_ISA_generic)
#define VL 4
#define GEMM_MR 6
#define GEMM_NV 2
#define DOT_MB 3
#define DOT_NB 4
#define ISA(name) name##_generic
#define ISA_NAME "generic"
#else
#error "compile lib/simd sources with -DCNN_ISA_<isa>"
#endif

#define GEMM_NR (GEMM_NV * VL)

/* Lane numbers for __builtin_shufflevector (GCC 12 and clang both have it;
 * it wants constants, hence a list per width): one vector turned round;
 * the even and the odd lanes of two vectors a, b (lane VL + i is b[i]);
 * and the low and the high halves of a and b interleaved, a[0] b[0] a[1]
 * b[1] ... */
#if VL == 16
#define LANES_REVERSE 15,14,13,12,11,10,9,8,7,6,5,4,3,2,1,0
#define LANES_EVEN 0,2,4,6,8,10,12,14,16,18,20,22,24,26,28,30
#define LANES_ODD 1,3,5,7,9,11,13,15,17,19,21,23,25,27,29,31
#define LANES_ZIP_LO 0,16,1,17,2,18,3,19,4,20,5,21,6,22,7,23
#define LANES_ZIP_HI 8,24,9,25,10,26,11,27,12,28,13,29,14,30,15,31
#elif VL == 8
#define LANES_REVERSE 7,6,5,4,3,2,1,0
#define LANES_EVEN 0,2,4,6,8,10,12,14
#define LANES_ODD 1,3,5,7,9,11,13,15
#define LANES_ZIP_LO 0,8,1,9,2,10,3,11
#define LANES_ZIP_HI 4,12,5,13,6,14,7,15
#else
#define LANES_REVERSE 3,2,1,0
#define LANES_EVEN 0,2,4,6
#define LANES_ODD 1,3,5,7
#define LANES_ZIP_LO 0,4,1,5
#define LANES_ZIP_HI 2,6,3,7
#endif

typedef float vf __attribute__((vector_size(VL * sizeof(float))));
typedef int vi __attribute__((vector_size(VL * sizeof(int))));

/* memcpy, not a cast, so that any alignment is fine (it compiles to one
 * unaligned load or store). */
static inline vf vload(const float *p)
{
	vf v;
	memcpy(&v, p, sizeof v);
	return v;
}

static inline void vstore(float *p, vf v)
{
	memcpy(p, &v, sizeof v);
}

/* The first n floats of v (0 < n <= VL). */
static inline void vstore_part(float *p, vf v, int n)
{
#if defined(CNN_ISA_avx512)
	_mm512_mask_storeu_ps(p, (__mmask16)((1u << n) - 1), (__m512)v);
#else
	for (int i = 0; i < n; i++)
		p[i] = v[i];
#endif
}

static inline vf vsplat(float x)
{
	vf v;
	for (int i = 0; i < VL; i++)
		v[i] = x;
	return v;
}

static inline vf vselect(vi m, vf a, vf b)
{
	return (vf)((m & (vi)a) | (~m & (vi)b));
}

#endif
