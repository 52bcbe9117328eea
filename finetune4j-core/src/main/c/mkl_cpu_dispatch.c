/*
 * Preloaded by the finetune4j launcher on AMD CPUs (see README, "Design: matrix products").
 *
 * libtorch links Intel oneMKL statically and calls it for fp32 matrix products. oneMKL chooses its
 * kernels by CPU features only after asking mkl_serv_intel_cpu_true() whether the CPU is Intel's; on
 * any other vendor it takes a generic path that leaves AVX-512 unused (measured here on a 2-core AMD
 * EPYC with AVX-512: 146-180 GFLOP/s for a 2048x2048 sgemm, 267-305 with this file preloaded). The
 * function is exported from libtorch_cpu.so and called through its PLT, so a preloaded definition
 * takes its place. oneMKL still checks every instruction set it uses against CPUID, so the answer only
 * lifts the vendor test; it changes no result beyond the float rounding of another kernel.
 */
int mkl_serv_intel_cpu_true(void) {
    return 1;
}
