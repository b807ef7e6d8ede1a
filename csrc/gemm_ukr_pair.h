/* gemm_ukr_pair.h: one ISA's and one dtype's micro-kernels, gemm_ukr_impl.h compiled twice:
 * UKR_NAME with two vectors per row of the tile (NV 2) and UKR_NAME##_half with one (NV 1, the
 * tile's narrow edge). gemm.c defines T, V, W and the vector operations (LOADU, STOREU, LOADM,
 * STOREM, SET1, FMA, MUL, ZERO) and UKR_NAME, includes this file, and this file clears them
 * all for the next ISA or dtype. */
#define MG_PASTE_(a, b) a##b
#define MG_PASTE(a, b) MG_PASTE_(a, b)

#define UKR UKR_NAME
#define NV 2
#include "gemm_ukr_impl.h"
#undef UKR
#undef NV

#define UKR MG_PASTE(UKR_NAME, _half)
#define NV 1
#include "gemm_ukr_impl.h"
#undef UKR
#undef NV

#undef MG_PASTE
#undef MG_PASTE_
#undef UKR_NAME
#undef T
#undef V
#undef W
#undef LOADU
#undef STOREU
#undef LOADM
#undef STOREM
#undef SET1
#undef FMA
#undef MUL
#undef ZERO
