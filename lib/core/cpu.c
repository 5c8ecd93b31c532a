/*
 * cpu.c - the choice of the SIMD kernels (lib/simd) this processor runs:
 * the best instruction set it has, once, unless cnn_simd_force() says.
 * Every table of the kernels (GEMM, gradients, pixels) comes from the same
 * instruction set.
 */
#include <string.h>

#include "cnn.h"
#include "simd/simd.h"

static const struct cnn_simd *chosen;

static int runs(const struct cnn_simd *s)
{
	__builtin_cpu_init();
	if (s == &cnn_simd_avx512)
		return __builtin_cpu_supports("avx512f") &&
		       __builtin_cpu_supports("avx512dq") &&
		       __builtin_cpu_supports("avx512bw") &&
		       __builtin_cpu_supports("avx512vl") &&
		       __builtin_cpu_supports("fma");
	if (s == &cnn_simd_avx2)
		return __builtin_cpu_supports("avx2") &&
		       __builtin_cpu_supports("fma");
	return 1;
}

static const struct cnn_simd *const tables[] = {
	&cnn_simd_avx512, &cnn_simd_avx2, &cnn_simd_generic
};

const struct cnn_simd *cnn_simd(void)
{
	const struct cnn_simd *s = __atomic_load_n(&chosen, __ATOMIC_ACQUIRE);

	for (size_t i = 0; !s; i++)
		if (runs(tables[i]))
			s = tables[i];
	__atomic_store_n(&chosen, s, __ATOMIC_RELEASE);
	return s;
}

int cnn_simd_force(const char *name)
{
	if (!name) {
		__atomic_store_n(&chosen, NULL, __ATOMIC_RELEASE);
		return CNN_OK;
	}
	for (size_t i = 0; i < sizeof tables / sizeof *tables; i++) {
		if (strcmp(tables[i]->name, name) != 0)
			continue;
		if (!runs(tables[i]))
			return cnn_error("this processor cannot run the %s kernels",
					 name);
		__atomic_store_n(&chosen, tables[i], __ATOMIC_RELEASE);
		return CNN_OK;
	}
	return cnn_error("unknown instruction set '%s'", name);
}

const struct cnn_simd_pixels *cnn_simd_pixels(void)
{
	const struct cnn_simd *s = cnn_simd();

	return s == &cnn_simd_avx512 ? &cnn_simd_pixels_avx512 :
	       s == &cnn_simd_avx2 ? &cnn_simd_pixels_avx2 : &cnn_simd_pixels_generic;
}

const struct cnn_simd_grad *cnn_simd_grad(void)
{
	const struct cnn_simd *s = cnn_simd();

	return s == &cnn_simd_avx512 ? &cnn_simd_grad_avx512 :
	       s == &cnn_simd_avx2 ? &cnn_simd_grad_avx2 : &cnn_simd_grad_generic;
}
