/*
 * Fused elementwise kernels of a BERT encoder layer's forward and backward pass, fp32 on the CPU.
 * Java side, the contract of every function, and how this file is built: org.finetune4j.nn.FusedKernels.
 *
 * Each function works on a range of rows [r0, r1) (for gelu: of elements), so the Java side can deal the
 * rows out to threads; no OpenMP runtime is used (libtorch brings its own libgomp, a second one fights it),
 * only `#pragma omp simd` (-fopenmp-simd). Built with -O3 -march=native -fno-math-errno, without
 * -ffast-math: IEEE semantics stay, so exp, erf and tanh below are written out as branch-free float
 * polynomials the compiler can vectorise (libm calls would not be).
 *
 * Every loop writes an output only at the index it reads, after reading its inputs there, and a later pass
 * over a row reads only arrays no earlier pass has written (or the outputs themselves): so an output may be
 * the same array as an input of its shape (the aliasing FusedKernels documents).
 */
#include <float.h>
#include <jni.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*
 * Each JNI entry resolves its buffers' addresses on the calling thread, then runs the kernel's range function
 * over its rows (or elements) split across libtorch's own OpenMP threads (PARALLEL): the library is linked to the
 * OpenMP runtime libtorch loaded, so the kernels use the threads that run libtorch's operators, warm, instead of
 * competing with them for the cores. The range functions take plain pointers; F32 and U8 name their casts.
 */
#define F32(b) ((float *) (b))
#define U8(b) ((const uint8_t *) (b))
#define ADDR(b) ((b) == NULL ? NULL : (*env)->GetDirectBufferAddress(env, (b)))

#ifdef _OPENMP
#include <omp.h>
#define THREAD_ID omp_get_thread_num()
#define THREADS omp_get_num_threads()
#else
#define THREAD_ID 0
#define THREADS 1
#endif

/* Below this much work (elements touched, about) a second thread costs more than it saves. */
#define MIN_PARALLEL_WORK 32768.0

/*
 * Runs the statement after the arguments on [lo, hi) sub-ranges of [from, to), one per thread, each boundary a
 * multiple of align from `from`; one thread when (to - from) * work is small. Which thread gets which range
 * never changes a result: every kernel's output for an element depends only on its own row.
 */
#define PARALLEL(lo, hi, from, to, align, work, ...)                                              \
    do {                                                                                          \
        const long from_ = (long) (from), to_ = (long) (to), align_ = (long) (align);             \
        const int par_ = (double) (to_ - from_) * (double) (work) >= 2 * MIN_PARALLEL_WORK;       \
        (void) par_;                                                                              \
        _Pragma("omp parallel if (par_)")                                                         \
        {                                                                                         \
            const long blocks_ = (to_ - from_ + align_ - 1) / align_;                             \
            const int t_ = THREAD_ID, n_ = THREADS;                                               \
            long lo = from_ + blocks_ * t_ / n_ * align_;                                         \
            long hi = t_ == n_ - 1 ? to_ : from_ + blocks_ * (t_ + 1) / n_ * align_;              \
            if (lo > to_) lo = to_;                                                               \
            if (hi > to_) hi = to_;                                                               \
            if (lo < hi) {                                                                        \
                __VA_ARGS__;                                                                      \
            }                                                                                     \
        }                                                                                         \
    } while (0)

/* ---- exp, erf ---------------------------------------------------------------------------------------- */

/*
 * exp(x) in float, max relative error 0.65 ulp on [-87.3, 88] (measured on a 1e-4 grid against double exp).
 * Cody-Waite reduction x = k ln2 + r, |r| <= ln2/2, k by the round-to-nearest of adding 1.5 * 2^23;
 * exp(r) by its degree-7 Taylor polynomial (truncation error r^8/8! < 6e-9); 2^k built in the exponent bits.
 * x is clamped to [-87.33654, 88] (NaN stays NaN) so that k stays in [-126, 127]: below, the result is about 1e-38 instead
 * of a denormal or 0; above, about 1.65e38 instead of inf (callers only divide by it).
 */
static inline float exp_f(float x) {
    x = x < -87.33654f ? -87.33654f : x; /* selects, not fminf/fmaxf: those do not vectorise without */
    x = x > 88.0f ? 88.0f : x;           /* -ffinite-math-only (their NaN rules) */
    float k = fmaf(x, 1.44269502e+00f, 12582912.0f) - 12582912.0f;
    float r = fmaf(k, -6.93145752e-01f, x); /* ln2 split: the high part has 12 trailing zero bits */
    r = fmaf(k, -1.42860677e-06f, r);
    float p = 1.0f / 5040.0f;
    p = fmaf(p, r, 1.0f / 720.0f);
    p = fmaf(p, r, 1.0f / 120.0f);
    p = fmaf(p, r, 1.0f / 24.0f);
    p = fmaf(p, r, 1.0f / 6.0f);
    p = fmaf(p, r, 0.5f);
    p = fmaf(p, r, 1.0f);
    p = fmaf(p, r, 1.0f);
    int32_t bits = ((int32_t) k + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

/* Where erf switches from its odd polynomial to 1 - exp(poly). */
#define ERF_SPLIT 0.9f

/*
 * erf(t) for 0 <= t < ERF_SPLIT as t P(t^2), P of degree 6, least-squares on 200 Chebyshev nodes of
 * erf(sqrt s)/sqrt s over s in [0, 0.81].
 */
static inline float erf_small(float t) {
    float s = t * t;
    float p = 8.534120606e-05f;
    p = fmaf(p, s, -8.180780882e-04f);
    p = fmaf(p, s, 5.204331583e-03f);
    p = fmaf(p, s, -2.686070896e-02f);
    p = fmaf(p, s, 1.128371889e-01f);
    p = fmaf(p, s, -3.761263525e-01f);
    p = fmaf(p, s, 1.128379167e+00f);
    return p * t;
}

/*
 * erfc(t) for ERF_SPLIT <= t as exp(Q(min(t, 4))), Q of degree 10 least-squares (weighted by erfc) on 300
 * Chebyshev nodes of log erfc(t) over [0.9, 4]; erfc(4) = 1.5e-8 rounds 1 - erfc to 1 in float.
 * Together with erf_small: |erf error| <= 1.2e-7 on [-6, 6] (measured on a 1e-5 grid against double erf).
 */
static inline float erfc_large(float t) {
    float x = t < 4.0f ? t : 4.0f;
    float q = -3.585825967e-07f;
    q = fmaf(q, x, 7.521257271e-06f);
    q = fmaf(q, x, -6.833435163e-05f);
    q = fmaf(q, x, 3.339059509e-04f);
    q = fmaf(q, x, -7.358502474e-04f);
    q = fmaf(q, x, -1.607995151e-03f);
    q = fmaf(q, x, 2.133626336e-02f);
    q = fmaf(q, x, -1.045579265e-01f);
    q = fmaf(q, x, -6.356866500e-01f);
    q = fmaf(q, x, -1.128665183e+00f);
    q = fmaf(q, x, 3.909755177e-05f);
    return exp_f(q);
}

/* 1 + erf(x), from erfc directly where x < -ERF_SPLIT (no cancellation). Both branches run; one is kept. */
static inline float one_plus_erf(float x) {
    float t = fabsf(x);
    float a = erf_small(t);
    float c = erfc_large(t);
    float pos = t < ERF_SPLIT ? 1.0f + a : 2.0f - c;
    float neg = t < ERF_SPLIT ? 1.0f - a : c;
    return x < 0.0f ? neg : pos;
}

/* ---- row reductions ------------------------------------------------------------------------------------- */

/*
 * A row's reductions keep LANES interleaved partial results: in FOR_LANES(j, n, BODY), BODY runs for every
 * j in [0, n) with `lane` = j mod LANES in the full blocks of LANES (the tail uses lanes 0, 1, ...), and
 * lanes_sum / lanes_max combine the partials pairwise in a fixed order. Written out instead of
 * `omp simd reduction`, for which GCC keeps one partial per vector lane of the loop's narrowest type (64 with
 * a byte mask under AVX-512) in memory and adds them one at a time at the end of every row: that cost more
 * than the rest of a row of attention's few dozen keys. Within a row the order of the additions is fixed, so
 * results do not depend on how rows are split across threads.
 */
#define LANES 16
#define FOR_LANES(j, n, BODY)                                          \
    do {                                                               \
        int j##_block = 0;                                             \
        for (; j##_block + LANES <= (n); j##_block += LANES) {         \
            _Pragma("omp simd") for (int lane = 0; lane < LANES; lane++) { \
                const int j = j##_block + lane;                        \
                BODY                                                   \
            }                                                          \
        }                                                              \
        for (int lane = 0; j##_block + lane < (n); lane++) {           \
            const int j = j##_block + lane;                            \
            BODY                                                       \
        }                                                              \
    } while (0)

/* Written out as scalars: a loop over halves goes through memory, and its loads stall on the vector store. */
static inline float lanes_sum(const float *a) {
    float s0 = (a[0] + a[8]) + (a[4] + a[12]);
    float s1 = (a[1] + a[9]) + (a[5] + a[13]);
    float s2 = (a[2] + a[10]) + (a[6] + a[14]);
    float s3 = (a[3] + a[11]) + (a[7] + a[15]);
    return (s0 + s2) + (s1 + s3);
}

static inline float max2(float a, float b) {
    return a > b ? a : b;
}

static inline float lanes_max(const float *a) {
    float m0 = max2(max2(a[0], a[8]), max2(a[4], a[12]));
    float m1 = max2(max2(a[1], a[9]), max2(a[5], a[13]));
    float m2 = max2(max2(a[2], a[10]), max2(a[6], a[14]));
    float m3 = max2(max2(a[3], a[11]), max2(a[7], a[15]));
    return max2(max2(m0, m2), max2(m1, m3));
}

#define SQRT1_2 7.071067691e-01f       /* 1/sqrt(2) */
#define INV_SQRT_2PI 3.989422917e-01f  /* 1/sqrt(2 pi) */
#define SQRT_2_OVER_PI 7.978845835e-01f
#define GELU_TANH_C 0.044715f

/* ---- LayerNorm over (dropout(y) + residual) ------------------------------------------------------------ */

static void layerNormForward_range(void *yb, void *maskb, jfloat keep, void *resb, void *gammab, void *betab, jfloat eps, void *sumb, void *meanb, void *rstdb, void *outb, jint h, jint r0, jint r1) {
    const float *y = F32(yb);
    const uint8_t *mask = U8(maskb);
    const float *res = F32(resb);
    const float *gamma = F32(gammab);
    const float *beta = F32(betab);
    float *sum = F32(sumb);
    float *meanv = F32(meanb);
    float *rstdv = F32(rstdb);
    float *out = F32(outb);
    for (ptrdiff_t r = r0; r < r1; r++) {
        ptrdiff_t o = r * (ptrdiff_t) h;
        float acc[LANES] = {0};
        if (mask != NULL) {
            FOR_LANES(j, h, {
                float v = (y[o + j] * (float) mask[o + j]) * keep + res[o + j];
                sum[o + j] = v;
                acc[lane] += v;
            });
        } else {
            FOR_LANES(j, h, {
                float v = y[o + j] + res[o + j];
                sum[o + j] = v;
                acc[lane] += v;
            });
        }
        float mean = lanes_sum(acc) / (float) h;
        float sq[LANES] = {0};
        FOR_LANES(j, h, {
            float d = sum[o + j] - mean;
            sq[lane] += d * d;
        });
        float rstd = 1.0f / sqrtf(lanes_sum(sq) / (float) h + eps); /* biased variance, as torch.nn.LayerNorm */
        float shift = -rstd * mean;
#pragma omp simd
        for (int j = 0; j < h; j++) {
            out[o + j] = (sum[o + j] * rstd + shift) * gamma[j] + beta[j];
        }
        meanv[r] = mean;
        rstdv[r] = rstd;
    }
}

JNIEXPORT void JNICALL Java_org_finetune4j_nn_FusedKernels_layerNormForward(JNIEnv *env, jclass cls, jobject yb,
        jobject maskb, jfloat keep, jobject resb, jobject gammab, jobject betab, jfloat eps, jobject sumb,
        jobject meanb, jobject rstdb, jobject outb, jint h, jint r0, jint r1) {
    void *yb_ = ADDR(yb);
    void *maskb_ = ADDR(maskb);
    void *resb_ = ADDR(resb);
    void *gammab_ = ADDR(gammab);
    void *betab_ = ADDR(betab);
    void *sumb_ = ADDR(sumb);
    void *meanb_ = ADDR(meanb);
    void *rstdb_ = ADDR(rstdb);
    void *outb_ = ADDR(outb);
    PARALLEL(lo_, hi_, r0, r1, 1, h, layerNormForward_range(yb_, maskb_, keep, resb_, gammab_, betab_, eps, sumb_, meanb_, rstdb_, outb_, h, lo_, hi_));
}

/*
 * One row of layerNormBackward. The flags are constants at each call, so every combination gets its own
 * loops without a test inside (and without a load through a NULL pointer in a vectorised loop).
 */
static inline __attribute__((always_inline)) void layer_norm_backward_row(const float *dout, const float *extra,
        const float *sum, float mean, float rstd, const float *gamma, const uint8_t *mask, float keep, float *dsum,
        float *dy, double *pg, double *pb, int h, const int has_extra, const int has_mask, const int has_dy) {
    float a[LANES] = {0}; /* sum_j g gamma */
    float c[LANES] = {0}; /* sum_j g gamma xhat */
    FOR_LANES(j, h, {
        float g = has_extra ? dout[j] + extra[j] : dout[j];
        float xhat = (sum[j] - mean) * rstd;
        float gg = g * gamma[j];
        pg[j] += (double) g * (double) xhat;
        pb[j] += (double) g;
        a[lane] += gg;
        c[lane] += gg * xhat;
    });
    float ma = lanes_sum(a) / (float) h;
    float mc = lanes_sum(c) / (float) h;
#pragma omp simd
    for (int j = 0; j < h; j++) {
        float g = has_extra ? dout[j] + extra[j] : dout[j];
        float xhat = (sum[j] - mean) * rstd;
        float ds = rstd * (g * gamma[j] - ma - xhat * mc);
        dsum[j] = ds;
        if (has_dy) {
            dy[j] = has_mask ? (ds * (float) mask[j]) * keep : ds;
        }
    }
}

/*
 * Backward of layerNormForward for rows [r0, r1), r0 a multiple of `block`. With g = dOut (+ dOutExtra),
 * xhat = (sum - mean) rstd: dSum = rstd (g gamma - mean_j(g gamma) - xhat mean_j(g gamma xhat)) and
 * dY = dSum mask keep. The rows' contributions to dGamma = sum g xhat and dBeta = sum g go, in double, into
 * one (2, h) slab of `part` per block of `block` rows (rows [k block, (k+1) block) in slab k): blocks do not
 * depend on how rows
 * are split across threads, so layerNormCombine's fixed-order sum gives the same bits for any split.
 */
static void layerNormBackward_range(void *doutb, void *extrab, void *sumb, void *meanb, void *rstdb, void *gammab, void *maskb, jfloat keep, void *dsumb, void *dyb, void *partb, jint h, jint block, jint r0, jint r1) {
    const float *dout = F32(doutb);
    const float *extra = extrab == NULL ? NULL : F32(extrab);
    const float *sum = F32(sumb);
    const float *meanv = F32(meanb);
    const float *rstdv = F32(rstdb);
    const float *gamma = F32(gammab);
    const uint8_t *mask = U8(maskb);
    float *dsum = F32(dsumb);
    float *dy = dyb == NULL ? NULL : F32(dyb);
    double *part = (double *) partb;
    for (ptrdiff_t b0 = r0; b0 < r1; b0 += block) {
        double *pg = part + (b0 / block) * 2 * (ptrdiff_t) h;
        double *pb = pg + h;
        for (int j = 0; j < h; j++) {
            pg[j] = 0.0;
            pb[j] = 0.0;
        }
        ptrdiff_t b1 = b0 + block < r1 ? b0 + block : r1;
        for (ptrdiff_t r = b0; r < b1; r++) {
            ptrdiff_t o = r * (ptrdiff_t) h;
            const float *e = extra == NULL ? NULL : extra + o;
            const uint8_t *m = mask == NULL ? NULL : mask + o;
            float *d = dy == NULL ? NULL : dy + o;
            float mean = meanv[r];
            float rstd = rstdv[r];
            if (extra != NULL) {
                if (mask != NULL) {
                    layer_norm_backward_row(dout + o, e, sum + o, mean, rstd, gamma, m, keep, dsum + o, d, pg, pb, h, 1, 1, 1);
                } else if (dy != NULL) {
                    layer_norm_backward_row(dout + o, e, sum + o, mean, rstd, gamma, m, keep, dsum + o, d, pg, pb, h, 1, 0, 1);
                } else {
                    layer_norm_backward_row(dout + o, e, sum + o, mean, rstd, gamma, m, keep, dsum + o, d, pg, pb, h, 1, 0, 0);
                }
            } else {
                if (mask != NULL) {
                    layer_norm_backward_row(dout + o, e, sum + o, mean, rstd, gamma, m, keep, dsum + o, d, pg, pb, h, 0, 1, 1);
                } else if (dy != NULL) {
                    layer_norm_backward_row(dout + o, e, sum + o, mean, rstd, gamma, m, keep, dsum + o, d, pg, pb, h, 0, 0, 1);
                } else {
                    layer_norm_backward_row(dout + o, e, sum + o, mean, rstd, gamma, m, keep, dsum + o, d, pg, pb, h, 0, 0, 0);
                }
            }
        }
    }
}

JNIEXPORT void JNICALL Java_org_finetune4j_nn_FusedKernels_layerNormBackward(JNIEnv *env, jclass cls, jobject doutb,
        jobject extrab, jobject sumb, jobject meanb, jobject rstdb, jobject gammab, jobject maskb, jfloat keep,
        jobject dsumb, jobject dyb, jobject partb, jint h, jint block, jint r0, jint r1) {
    void *doutb_ = ADDR(doutb);
    void *extrab_ = ADDR(extrab);
    void *sumb_ = ADDR(sumb);
    void *meanb_ = ADDR(meanb);
    void *rstdb_ = ADDR(rstdb);
    void *gammab_ = ADDR(gammab);
    void *maskb_ = ADDR(maskb);
    void *dsumb_ = ADDR(dsumb);
    void *dyb_ = ADDR(dyb);
    void *partb_ = ADDR(partb);
    PARALLEL(lo_, hi_, r0, r1, block, h, layerNormBackward_range(doutb_, extrab_, sumb_, meanb_, rstdb_, gammab_, maskb_, keep, dsumb_, dyb_, partb_, h, block, lo_, hi_));
}

/* dGamma[j] = sum over the blocks, in order, of their dGamma slabs; dBeta likewise. */
JNIEXPORT void JNICALL Java_org_finetune4j_nn_FusedKernels_layerNormCombine(JNIEnv *env, jclass cls, jobject partb,
        jint blocks, jint h, jobject dgammab, jobject dbetab) {
    const double *part = (const double *) ADDR(partb);
    float *dgamma = F32(ADDR(dgammab));
    float *dbeta = F32(ADDR(dbetab));
    for (int j = 0; j < h; j++) {
        double sg = 0.0;
        double sb = 0.0;
        for (int k = 0; k < blocks; k++) {
            sg += part[(ptrdiff_t) k * 2 * h + j];
            sb += part[(ptrdiff_t) k * 2 * h + h + j];
        }
        dgamma[j] = (float) sg;
        dbeta[j] = (float) sb;
    }
}

/* ---- GELU ----------------------------------------------------------------------------------------------- */

/*
 * Elements [i0, i1). Exact: 0.5 u (1 + erf(u / sqrt 2)). Tanh form: 0.5 u (1 + tanh(v)),
 * v = sqrt(2/pi) (u + 0.044715 u^3), computed as u / (1 + exp(-2v)) (1 + tanh v = 2 / (1 + exp(-2v))).
 */
static void geluForward_range(void *ub, void *outb, jboolean tanhApprox, jlong i0, jlong i1) {
    const float *u = F32(ub) + i0;
    float *out = F32(outb) + i0;
    int n = (int) (i1 - i0); /* a direct buffer holds fewer than 2^31 bytes */
    if (tanhApprox) {
#pragma omp simd
        for (int i = 0; i < n; i++) {
            float x = u[i];
            float v = SQRT_2_OVER_PI * fmaf(GELU_TANH_C * x * x, x, x);
            out[i] = x / (1.0f + exp_f(-2.0f * v));
        }
    } else {
#pragma omp simd
        for (int i = 0; i < n; i++) {
            float x = u[i];
            out[i] = 0.5f * x * one_plus_erf(x * SQRT1_2);
        }
    }
}

JNIEXPORT void JNICALL Java_org_finetune4j_nn_FusedKernels_geluForward(JNIEnv *env, jclass cls, jobject ub,
        jobject outb, jboolean tanhApprox, jlong i0, jlong i1) {
    void *ub_ = ADDR(ub);
    void *outb_ = ADDR(outb);
    PARALLEL(lo_, hi_, i0, i1, 16, 8, geluForward_range(ub_, outb_, tanhApprox, lo_, hi_));
}

/*
 * dU = dOut gelu'(u). Exact: 0.5 (1 + erf(u / sqrt 2)) + u exp(-u^2/2) / sqrt(2 pi). Tanh form, with
 * s = 1 / (1 + e), e = exp(-2v): gelu = u s, gelu' = s + 2 u s (1 - s) v', 1 - s = e s,
 * v' = sqrt(2/pi) (1 + 3 0.044715 u^2).
 */
static void geluBackward_range(void *doutb, void *ub, void *dub, jboolean tanhApprox, jlong i0, jlong i1) {
    const float *dout = F32(doutb) + i0;
    const float *u = F32(ub) + i0;
    float *du = F32(dub) + i0;
    int n = (int) (i1 - i0); /* a direct buffer holds fewer than 2^31 bytes */
    if (tanhApprox) {
#pragma omp simd
        for (int i = 0; i < n; i++) {
            float x = u[i];
            float x2 = x * x;
            float v = SQRT_2_OVER_PI * fmaf(GELU_TANH_C * x2, x, x);
            float e = exp_f(-2.0f * v);
            float s = 1.0f / (1.0f + e);
            float dv = SQRT_2_OVER_PI * fmaf(3.0f * GELU_TANH_C, x2, 1.0f);
            du[i] = dout[i] * (s + 2.0f * x * ((e * s) * s) * dv);
        }
    } else {
#pragma omp simd
        for (int i = 0; i < n; i++) {
            float x = u[i];
            float cdf = 0.5f * one_plus_erf(x * SQRT1_2);
            float pdf = exp_f(-0.5f * x * x) * INV_SQRT_2PI;
            du[i] = dout[i] * (cdf + x * pdf);
        }
    }
}

JNIEXPORT void JNICALL Java_org_finetune4j_nn_FusedKernels_geluBackward(JNIEnv *env, jclass cls, jobject doutb,
        jobject ub, jobject dub, jboolean tanhApprox, jlong i0, jlong i1) {
    void *doutb_ = ADDR(doutb);
    void *ub_ = ADDR(ub);
    void *dub_ = ADDR(dub);
    PARALLEL(lo_, hi_, i0, i1, 16, 8, geluBackward_range(doutb_, ub_, dub_, tanhApprox, lo_, hi_));
}

/* ---- Attention probabilities ---------------------------------------------------------------------------- */

/*
 * Rows [r0, r1) of scores viewed as (rows, tk); row r belongs to batch item r / rowsPerItem, whose key mask
 * is keyMask[item * tk ...]. probs = softmax(scores * scale) over the attended keys, 0 on the others;
 * a row with no attended key gets 1/tk everywhere, as the additive -FLT_MAX mask gives (all its logits
 * round to -FLT_MAX). dropped = (probs dropMask) keep.
 */
static void softmaxForward_range(void *scoresb, jfloat scale, void *keymaskb, void *dropmaskb, jfloat keep, void *probsb, void *droppedb, jint rowsPerItem, jint tk, jint r0, jint r1) {
    const float *scores = F32(scoresb);
    const uint8_t *keymask = U8(keymaskb);
    const uint8_t *dropmask = U8(dropmaskb);
    float *probs = F32(probsb);
    float *dropped = droppedb == NULL ? NULL : F32(droppedb);
    for (ptrdiff_t r = r0; r < r1; r++) {
        ptrdiff_t o = r * (ptrdiff_t) tk;
        const uint8_t *km = keymask == NULL ? NULL : keymask + (r / rowsPerItem) * (ptrdiff_t) tk;
        float mxs[LANES];
        for (int k = 0; k < LANES; k++) {
            mxs[k] = -INFINITY;
        }
        if (km != NULL) {
            FOR_LANES(j, tk, {
                /* a padding key's logit becomes -FLT_MAX (adding 0 leaves the others exact), as the additive
                 * mask does; arithmetic rather than a select on the byte, which does not vectorise */
                float x = scores[o + j] * scale + ((float) km[j] - 1.0f) * FLT_MAX;
                mxs[lane] = mxs[lane] > x ? mxs[lane] : x;
            });
        } else {
            FOR_LANES(j, tk, {
                float x = scores[o + j] * scale;
                mxs[lane] = mxs[lane] > x ? mxs[lane] : x;
            });
        }
        float mx = lanes_max(mxs);
        if (mx <= -FLT_MAX) { /* no key attended (for logits within +-1e31 of 0) */
            for (int j = 0; j < tk; j++) {
                probs[o + j] = 1.0f / (float) tk;
            }
        } else {
            float total[LANES] = {0};
            if (km != NULL) {
                FOR_LANES(j, tk, {
                    float e = exp_f(scores[o + j] * scale - mx);
                    e *= (float) km[j]; /* e is finite: exactly e or +0 */
                    probs[o + j] = e;
                    total[lane] += e;
                });
            } else {
                FOR_LANES(j, tk, {
                    float e = exp_f(scores[o + j] * scale - mx);
                    probs[o + j] = e;
                    total[lane] += e;
                });
            }
            float inv = 1.0f / lanes_sum(total);
#pragma omp simd
            for (int j = 0; j < tk; j++) {
                probs[o + j] *= inv;
            }
        }
        if (dropped != NULL) {
            if (dropmask != NULL) {
#pragma omp simd
                for (int j = 0; j < tk; j++) {
                    dropped[o + j] = (probs[o + j] * (float) dropmask[o + j]) * keep;
                }
            } else {
#pragma omp simd
                for (int j = 0; j < tk; j++) {
                    dropped[o + j] = probs[o + j];
                }
            }
        }
    }
}

JNIEXPORT void JNICALL Java_org_finetune4j_nn_FusedKernels_softmaxForward(JNIEnv *env, jclass cls, jobject scoresb,
        jfloat scale, jobject keymaskb, jobject dropmaskb, jfloat keep, jobject probsb, jobject droppedb,
        jint rowsPerItem, jint tk, jint r0, jint r1) {
    void *scoresb_ = ADDR(scoresb);
    void *keymaskb_ = ADDR(keymaskb);
    void *dropmaskb_ = ADDR(dropmaskb);
    void *probsb_ = ADDR(probsb);
    void *droppedb_ = ADDR(droppedb);
    PARALLEL(lo_, hi_, r0, r1, 1, tk, softmaxForward_range(scoresb_, scale, keymaskb_, dropmaskb_, keep, probsb_, droppedb_, rowsPerItem, tk, lo_, hi_));
}

/*
 * dP = (dDropped dropMask) keep (or dDropped), dScores = ((probs (dP - sum_j dP probs)) scale: softmax's
 * backward, then the scale's. dP is formed twice, so dScores may be dDropped or probs itself.
 */
static void softmaxBackward_range(void *ddb, void *probsb, void *dropmaskb, jfloat keep, jfloat scale, void *dsb, jint tk, jint r0, jint r1) {
    const float *dd = F32(ddb);
    const float *probs = F32(probsb);
    const uint8_t *dm = U8(dropmaskb);
    float *ds = F32(dsb);
    for (ptrdiff_t r = r0; r < r1; r++) {
        ptrdiff_t o = r * (ptrdiff_t) tk;
        float dots[LANES] = {0};
        if (dm != NULL) {
            FOR_LANES(j, tk, { dots[lane] += ((dd[o + j] * (float) dm[o + j]) * keep) * probs[o + j]; });
            float dot = lanes_sum(dots);
#pragma omp simd
            for (int j = 0; j < tk; j++) {
                float dp = (dd[o + j] * (float) dm[o + j]) * keep;
                ds[o + j] = (probs[o + j] * (dp - dot)) * scale;
            }
        } else {
            FOR_LANES(j, tk, { dots[lane] += dd[o + j] * probs[o + j]; });
            float dot = lanes_sum(dots);
#pragma omp simd
            for (int j = 0; j < tk; j++) {
                ds[o + j] = (probs[o + j] * (dd[o + j] - dot)) * scale;
            }
        }
    }
}

JNIEXPORT void JNICALL Java_org_finetune4j_nn_FusedKernels_softmaxBackward(JNIEnv *env, jclass cls, jobject ddb,
        jobject probsb, jobject dropmaskb, jfloat keep, jfloat scale, jobject dsb, jint tk, jint r0, jint r1) {
    void *ddb_ = ADDR(ddb);
    void *probsb_ = ADDR(probsb);
    void *dropmaskb_ = ADDR(dropmaskb);
    void *dsb_ = ADDR(dsb);
    PARALLEL(lo_, hi_, r0, r1, 1, tk, softmaxBackward_range(ddb_, probsb_, dropmaskb_, keep, scale, dsb_, tk, lo_, hi_));
}

/* ---- AdamW --------------------------------------------------------------------------------------------- */

/*
 * torch.optim.AdamW's update of elements [i0, i1) of one parameter, in CpuUpdate's float arithmetic and order
 * (FMA contraction off, so the result is Java's bit for bit):
 *   g' = g clip; m = b1 m + (1 - b1) g'; v = b2 v + (1 - b2) g' g'; w = w decay - stepSize m / (sqrt(v) + epsHat)
 */
__attribute__((optimize("fp-contract=off")))
static void adamw_range(void *wb, void *gb, void *mb, void *vb, jlong i0, jlong i1, jfloat b1, jfloat b2, jfloat clip, jfloat decay, jfloat stepSize, jfloat epsHat) {
    float *restrict w = F32(wb);
    const float *restrict g = F32(gb);
    float *restrict m = F32(mb);
    float *restrict v = F32(vb);
    const float c1 = 1 - b1, c2 = 1 - b2;
#pragma omp simd
    for (long i = i0; i < i1; i++) {
        float gi = g[i] * clip;
        float mi = b1 * m[i] + c1 * gi;
        float vi = b2 * v[i] + c2 * gi * gi;
        m[i] = mi;
        v[i] = vi;
        w[i] = w[i] * decay - stepSize * mi / (sqrtf(vi) + epsHat);
    }
}

JNIEXPORT void JNICALL Java_org_finetune4j_nn_FusedKernels_adamw(JNIEnv *env, jclass cls, jobject wb, jobject gb, jobject mb,
                                                                  jobject vb, jlong i0, jlong i1, jfloat b1, jfloat b2,
                                                                  jfloat clip, jfloat decay, jfloat stepSize, jfloat epsHat) {
    void *wb_ = ADDR(wb);
    void *gb_ = ADDR(gb);
    void *mb_ = ADDR(mb);
    void *vb_ = ADDR(vb);
    PARALLEL(lo_, hi_, i0, i1, 16, 2, adamw_range(wb_, gb_, mb_, vb_, lo_, hi_, b1, b2, clip, decay, stepSize, epsHat));
}

/* ---- dropout masks ------------------------------------------------------------------------------------- */

static inline uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/*
 * Bytes [2 k0, 2 k1) of a dropout keep mask (clipped to n), drawn as Functional.fillMask draws them from
 * java.util.SplittableRandom(seed): draw k is mix64(seed + (k + 1) gamma); its low 24 bits decide byte 2k and
 * the next 24 bits byte 2k + 1 (kept, 1, when the 24-bit number is at least drop). Every draw is independent,
 * so any range can be filled on its own, and the bytes are Java's bit for bit.
 */
static void dropoutMask_range(void *outb, jlong n, jlong seed, jlong gamma, jint drop, jlong k0, jlong k1) {
    uint8_t *out = (uint8_t *) outb;
    const uint64_t s = (uint64_t) seed, gm = (uint64_t) gamma;
    const int64_t pairs = n / 2;
    const int64_t end = k1 < pairs ? k1 : pairs;
#pragma omp simd
    for (int64_t k = k0; k < end; k++) {
        uint64_t bits = mix64(s + (uint64_t) (k + 1) * gm);
        out[2 * k] = (uint8_t) ((int32_t) (bits & 0xFFFFFF) >= drop);
        out[2 * k + 1] = (uint8_t) ((int32_t) ((bits >> 24) & 0xFFFFFF) >= drop);
    }
    if ((n & 1) && k0 <= pairs && pairs < k1) {
        uint64_t bits = mix64(s + (uint64_t) (pairs + 1) * gm);
        out[n - 1] = (uint8_t) ((int32_t) (bits & 0xFFFFFF) >= drop);
    }
}

JNIEXPORT void JNICALL Java_org_finetune4j_nn_FusedKernels_dropoutMask(JNIEnv *env, jclass cls, jobject outb, jlong n,
                                                                        jlong seed, jlong gamma, jint drop, jlong k0,
                                                                        jlong k1) {
    void *outb_ = ADDR(outb);
    PARALLEL(lo_, hi_, k0, k1, 8, 4, dropoutMask_range(outb_, n, seed, gamma, drop, lo_, hi_));
}

/*
 * AdamW over count rows of h weights of an embedding table whose moments are kept row by row (CpuUpdate's
 * runRows, same arithmetic): row k has weights at wRows[k] * h; its gradient at gAt[k] in g (a Java float[]),
 * or none (zero) when gAt[k] < 0; its moments at mAt[k] in m and v, or, when mAt[k] < 0, none at all: a row
 * that has never had a gradient, for which the update is w = w decay - zeroTerm.
 */
__attribute__((optimize("fp-contract=off")))
static void adamw_rows_range(float *w, const float *g, float *m, float *v, const jint *wRows, const jint *gAt,
                             const jint *mAt, long k0, long k1, jint h, float b1, float b2, float clip, float decay,
                             float stepSize, float epsHat, float zeroTerm) {
    const float c1 = 1 - b1, c2 = 1 - b2;
    for (long k = k0; k < k1; k++) {
        float *restrict wr = w + (long) wRows[k] * h;
        if (mAt[k] < 0) {
#pragma omp simd
            for (jint j = 0; j < h; j++) {
                wr[j] = wr[j] * decay - zeroTerm;
            }
            continue;
        }
        float *restrict mr = m + mAt[k];
        float *restrict vr = v + mAt[k];
        const float *restrict gr = gAt[k] >= 0 && g != NULL ? g + gAt[k] : NULL;
        if (gr == NULL) {
#pragma omp simd
            for (jint j = 0; j < h; j++) {
                float gi = 0.0f * clip;
                float mi = b1 * mr[j] + c1 * gi;
                float vi = b2 * vr[j] + c2 * gi * gi;
                mr[j] = mi;
                vr[j] = vi;
                wr[j] = wr[j] * decay - stepSize * mi / (sqrtf(vi) + epsHat);
            }
            continue;
        }
#pragma omp simd
        for (jint j = 0; j < h; j++) {
            float gi = gr[j] * clip;
            float mi = b1 * mr[j] + c1 * gi;
            float vi = b2 * vr[j] + c2 * gi * gi;
            mr[j] = mi;
            vr[j] = vi;
            wr[j] = wr[j] * decay - stepSize * mi / (sqrtf(vi) + epsHat);
        }
    }
}

JNIEXPORT void JNICALL Java_org_finetune4j_nn_FusedKernels_adamwRows(JNIEnv *env, jclass cls, jobject wb, jfloatArray garr,
                                                                      jobject mb, jobject vb, jintArray wRowsArr,
                                                                      jintArray gAtArr, jintArray mAtArr, jint count, jint h,
                                                                      jfloat b1, jfloat b2, jfloat clip, jfloat decay,
                                                                      jfloat stepSize, jfloat epsHat, jfloat zeroTerm) {
    float *w = F32(ADDR(wb));
    float *m = F32(ADDR(mb));
    float *v = F32(ADDR(vb));
    jint *wRows = (*env)->GetIntArrayElements(env, wRowsArr, NULL);
    jint *gAt = (*env)->GetIntArrayElements(env, gAtArr, NULL);
    jint *mAt = (*env)->GetIntArrayElements(env, mAtArr, NULL);
    /* Pinned while the threads read it; no JNI call happens until it is released. */
    float *g = garr == NULL ? NULL : (float *) (*env)->GetPrimitiveArrayCritical(env, garr, NULL);
    PARALLEL(lo_, hi_, 0, count, 1, 4 * h,
             adamw_rows_range(w, g, m, v, wRows, gAt, mAt, lo_, hi_, h, b1, b2, clip, decay, stepSize, epsHat, zeroTerm));
    if (g != NULL) {
        (*env)->ReleasePrimitiveArrayCritical(env, garr, g, JNI_ABORT);
    }
    (*env)->ReleaseIntArrayElements(env, wRowsArr, wRows, JNI_ABORT);
    (*env)->ReleaseIntArrayElements(env, gAtArr, gAt, JNI_ABORT);
    (*env)->ReleaseIntArrayElements(env, mAtArr, mAt, JNI_ABORT);
}

/* Columns [c0, c1) of the column sums of an (n, c) row-major matrix, written to out: a bias's gradient. */
static void columnSums_range(void *xb, void *outb, jlong n, jint c, jlong c0, jlong c1) {
    const float *restrict x = F32(xb);
    float *restrict out = F32(outb);
    for (long j = c0; j < c1; j++) {
        out[j] = 0.0f;
    }
    for (long r = 0; r < n; r++) {
        const float *restrict row = x + r * c;
#pragma omp simd
        for (long j = c0; j < c1; j++) {
            out[j] += row[j];
        }
    }
}

JNIEXPORT void JNICALL Java_org_finetune4j_nn_FusedKernels_columnSums(JNIEnv *env, jclass cls, jobject xb, jobject outb,
                                                                       jlong n, jint c, jlong c0, jlong c1) {
    void *xb_ = ADDR(xb);
    void *outb_ = ADDR(outb);
    PARALLEL(lo_, hi_, c0, c1, 16, n, columnSums_range(xb_, outb_, n, c, lo_, hi_));
}
