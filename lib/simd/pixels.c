/*
 * pixels.c - elementwise kernels of images: dtype conversions, the affine
 * colour maps of augmentation (brightness, contrast, exposure, shifts,
 * normalisation) with their clamping, plane sums, row flips and the
 * vertical mixing of resizing; batch normalisation's inference and the
 * rows of stride-2 phase planes.  Plain loops of these are scalar at -O2,
 * and fminf/fmaxf are calls, which made them most of augmentation's time.
 */
#include "vec.h"

#if defined(CNN_ISA_avx2)
#include <immintrin.h>
#endif

/* VL bytes as floats, and whole floats 0..255 as bytes.  GCC 12 does the
 * lane conversions of __builtin_convertvector one lane at a time, so the
 * two vector ISAs say what they mean. */
static inline vf vload_u8(const unsigned char *s)
{
#if defined(CNN_ISA_avx512)
	return (vf)_mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)s)));
#elif defined(CNN_ISA_avx2)
	return (vf)_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)s)));
#else
	vf v;
	for (int k = 0; k < VL; k++)
		v[k] = s[k];
	return v;
#endif
}

static inline void vstore_u8(unsigned char *d, vf v)
{
#if defined(CNN_ISA_avx512)
	_mm_storeu_si128((__m128i *)d, _mm512_cvtepi32_epi8(_mm512_cvttps_epi32((__m512)v)));
#elif defined(CNN_ISA_avx2)
	__m256i w = _mm256_cvttps_epi32((__m256)v);
	__m128i h = _mm_packus_epi32(_mm256_castsi256_si128(w), _mm256_extracti128_si256(w, 1));
	_mm_storel_epi64((__m128i *)d, _mm_packus_epi16(h, h));
#else
	for (int k = 0; k < VL; k++)
		d[k] = (unsigned char)v[k];
#endif
}

static void u8_to_f32(float *d, const unsigned char *s, long n)
{
	long i = 0;

	for (; i + VL <= n; i += VL)
		vstore(d + i, vload_u8(s + i));
	for (; i < n; i++)
		d[i] = s[i];
}

static void f32_to_u8(unsigned char *d, const float *s, long n)
{
	/* Adding and taking away 2^23 rounds 0..255 half to even, as
	 * nearbyint() in cnn_tensor_set(). */
	const vf lo = vsplat(0), hi = vsplat(255), magic = vsplat(0x1p23f);
	long i = 0;

	for (; i + VL <= n; i += VL) {
		vf v = vload(s + i);
		v = vselect(v > lo, v, lo);
		v = vselect(v < hi, v, hi);
		vstore_u8(d + i, (v + magic) - magic);
	}
	for (; i < n; i++) {
		float v = s[i] > 0 ? s[i] : 0;
		v = v < 255 ? v : 255;
		d[i] = (unsigned char)((v + 0x1p23f) - 0x1p23f);
	}
}

static inline float clampf(float v, float lo, float hi)
{
	v = v > lo ? v : lo;
	return v < hi ? v : hi;
}

static inline __attribute__((always_inline)) void
affine_loop(float *v, long n, float a, float c, float d, float lo, float hi, int clamp)
{
	const vf va = vsplat(a), vc = vsplat(c), vd = vsplat(d), vlo = vsplat(lo), vhi = vsplat(hi);
	long i = 0;

	for (; i + VL <= n; i += VL) {
		vf x = va * (vload(v + i) - vc) + vd;
		if (clamp) {
			x = vselect(x > vlo, x, vlo);
			x = vselect(x < vhi, x, vhi);
		}
		vstore(v + i, x);
	}
	for (; i < n; i++) {
		float x = a * (v[i] - c) + d;
		v[i] = clamp ? clampf(x, lo, hi) : x;
	}
}

static void affine(float *v, long n, float a, float c, float d, float lo, float hi)
{
	if (lo < hi)
		affine_loop(v, n, a, c, d, lo, hi, 1);
	else
		affine_loop(v, n, a, c, d, 0, 0, 0);
}

/* Batch normalisation's inference, from its input: one pass, in the
 * order of the scalar code of training's (nn/batchnorm.c), whose numbers
 * it gives. */
static void normalise(float *y, const float *x, long n, float mean, float invstd, float g,
		      float b)
{
	long i = 0;

	for (; i + VL <= n; i += VL)
		vstore(y + i, g * ((vload(x + i) - mean) * invstd) + b);
	for (; i < n; i++)
		y[i] = g * ((x[i] - mean) * invstd) + b;
}

static double sum(const float *v, long n)
{
	enum { LANES = 16, BLOCK = 64 * LANES };
	double total = 0;

	/* Sixteen running sums in float, lane l taking elements l, l + 16, ...
	 * of a block whatever the vector width, so that every instruction set
	 * adds the same numbers in the same order; blocks add up in double, so
	 * that the error stays that of a short sum however large the plane. */
	for (long i = 0; i < n; i += BLOCK) {
		long end = n - i > BLOCK ? i + BLOCK : n, j = i;
		vf acc[LANES / VL];
		float lane[LANES];
		for (int k = 0; k < LANES / VL; k++)
			acc[k] = vsplat(0);
		for (; j + LANES <= end; j += LANES)
			for (int k = 0; k < LANES / VL; k++)
				acc[k] += vload(v + j + k * VL);
		for (int k = 0; k < LANES / VL; k++)
			for (int l = 0; l < VL; l++)
				lane[k * VL + l] = acc[k][l];
		for (; j < end; j++)
			lane[(j - i) % LANES] += v[j];
		for (int l = 0; l < LANES; l++)
			total += lane[l];
	}
	return total;
}

static void axpy(float *y, const float *x, long n, float a)
{
	const vf va = vsplat(a);
	long i = 0;

	for (; i + VL <= n; i += VL)
		vstore(y + i, vload(y + i) + va * vload(x + i));
	for (; i < n; i++)
		y[i] += a * x[i];
}

static void evens(float *d, const float *s, long n)
{
	long i = 0;

	/* Whole pairs of vectors while they end inside s[0, 2n - 1). */
	for (; i + VL < n; i += VL)
		vstore(d + i, __builtin_shufflevector(vload(s + 2 * i), vload(s + 2 * i + VL),
						      LANES_EVEN));
	for (; i < n; i++)
		d[i] = s[2 * i];
}

static inline vf vreverse(vf v)
{
	return __builtin_shufflevector(v, v, LANES_REVERSE);
}

static void reverse(float *v, long n)
{
	long i = 0, j = n;

	/* Whole vectors from both ends, swapped and turned round; then the
	 * middle one float at a time. */
	for (; j - i >= 2 * VL; i += VL, j -= VL) {
		vf a = vload(v + i), b = vload(v + j - VL);
		vstore(v + i, vreverse(b));
		vstore(v + j - VL, vreverse(a));
	}
	for (j--; i < j; i++, j--) {
		float t = v[i];
		v[i] = v[j];
		v[j] = t;
	}
}

/* x[idx[k]] in lane k. */
static inline vf vgather(const float *x, vi idx)
{
#if defined(CNN_ISA_avx512)
	return (vf)_mm512_i32gather_ps((__m512i)idx, x, 4);
#elif defined(CNN_ISA_avx2)
	return (vf)_mm256_i32gather_ps(x, (__m256i)idx, 4);
#else
	vf v;
	for (int k = 0; k < VL; k++)
		v[k] = x[idx[k]];
	return v;
#endif
}

static void taps(float *y, const float *x, const int *first, const float *w, int ntaps,
		 long n)
{
	long i = 0;

	for (; i + VL <= n; i += VL) {
		vi idx;
		vf acc = vsplat(0);
		memcpy(&idx, first + i, sizeof idx);
		for (int t = 0; t < ntaps; t++, idx += 1) {
			vf wt = vload(w + t * n + i);
			acc += vselect(wt != 0, wt * vgather(x, idx), vsplat(0));
		}
		vstore(y + i, acc);
	}
	for (; i < n; i++) {
		float acc = 0;
		for (int t = 0; t < ntaps; t++)
			if (w[t * n + i] != 0)
				acc += w[t * n + i] * x[first[i] + t];
		y[i] = acc;
	}
}

const struct cnn_simd_pixels ISA(cnn_simd_pixels) = {
	.taps = taps,
	.u8_to_f32 = u8_to_f32,
	.f32_to_u8 = f32_to_u8,
	.affine = affine,
	.normalise = normalise,
	.sum = sum,
	.axpy = axpy,
	.reverse = reverse,
	.evens = evens,
};
