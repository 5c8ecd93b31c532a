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
