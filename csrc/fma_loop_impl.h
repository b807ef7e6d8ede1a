/* fma_loop_impl.h: the FMA peak loop of info.c, included once per vector ISA. The includer
 * defines FMA_LOOP (the function's name), TARGET (its target attribute string), V (the float
 * vector type), W (its lanes), SET1 and FMA (the broadcast and fused multiply-add intrinsics). */

__attribute__((target(TARGET))) static float FMA_LOOP(int64_t iters)
{
    V acc[ACC];
    const V x = SET1(0.999999f), y = SET1(1e-7f);
    for (int i = 0; i < ACC; i++) acc[i] = SET1((float)i);
    for (int64_t t = 0; t < iters; t++) {
#pragma GCC unroll 16
        for (int i = 0; i < ACC; i++) acc[i] = FMA(acc[i], x, y);
    }
    float out[W], sum = 0;
    for (int i = 1; i < ACC; i++) acc[0] = acc[0] + acc[i];
    memcpy(out, &acc[0], sizeof(out));
    for (int i = 0; i < W; i++) sum += out[i];
    return sum;
}
