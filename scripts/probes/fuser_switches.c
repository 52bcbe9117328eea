/*
 * The switches of PyTorch's TorchScript CPU fuser (NNC, "TensorExpr"), set from C for the fuser probe
 * (scripts/probes/fuser-probe.sh, FuserProbe.java). libtorch's C++ functions are called by their exported
 * (mangled) names, so no libtorch headers are needed.
 *
 * Loaded by the probe with System.load after DJL has loaded libtorch: the constructor finds the already
 * loaded libtorch_cpu.so by its soname (RTLD_NOLOAD), sets the switches FUSER_PROBE_SWITCHES names, and
 * prints the state libtorch reports back. It cannot work as an LD_PRELOAD constructor, which runs before
 * the JVM has loaded libtorch.
 *
 * FUSER_PROBE_SWITCHES, comma-separated:
 *   fuse       overrideCanFuseOnCPU(true) + setTensorExprFuserEnabled(true)
 *   interp     getTEMustUseLLVMOnCPU() = false: without LLVM, NNC runs its interpreter (SimpleIREvaluator)
 *   fallback   setFallbackAllowed(true): a kernel NNC cannot compile runs the unfused graph instead
 *
 * Exported by libtorch_cpu.so 2.7.1 (nm -D --defined-only libtorch_cpu.so | c++filt):
 *   torch::jit::overrideCanFuseOnCPU(bool)               _ZN5torch3jit20overrideCanFuseOnCPUEb
 *   torch::jit::canFuseOnCPU()                           _ZN5torch3jit12canFuseOnCPUEv
 *   torch::jit::setTensorExprFuserEnabled(bool)          _ZN5torch3jit25setTensorExprFuserEnabledEb
 *   torch::jit::tensorExprFuserEnabled()                 _ZN5torch3jit22tensorExprFuserEnabledEv
 *   torch::jit::tensorexpr::getTEMustUseLLVMOnCPU()      _ZN5torch3jit10tensorexpr21getTEMustUseLLVMOnCPUEv (bool&)
 *   torch::jit::tensorexpr::setFallbackAllowed(bool)     _ZN5torch3jit10tensorexpr18setFallbackAllowedEb
 *   torch::jit::tensorexpr::fallbackAllowed()            _ZN5torch3jit10tensorexpr15fallbackAllowedEv
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *need(void *lib, const char *name) {
    void *f = dlsym(lib, name);
    if (f == NULL) {
        fprintf(stderr, "fuser_switches: libtorch_cpu.so exports no %s (%s)\n", name, dlerror());
        exit(3);
    }
    return f;
}

static bool has(const char *list, const char *word) {
    size_t n = strlen(word);
    for (const char *p = list; (p = strstr(p, word)) != NULL; p += n) {
        if ((p == list || p[-1] == ',') && (p[n] == '\0' || p[n] == ',')) {
            return true;
        }
    }
    return false;
}

__attribute__((constructor)) static void fuser_switches(void) {
    const char *sw = getenv("FUSER_PROBE_SWITCHES");
    if (sw == NULL) {
        sw = "";
    }
    void *lib = dlopen("libtorch_cpu.so", RTLD_NOW | RTLD_NOLOAD);
    if (lib == NULL) {
        fprintf(stderr, "fuser_switches: libtorch_cpu.so is not loaded yet; load this library after DJL's engine\n");
        exit(3);
    }
    void (*override_can_fuse_on_cpu)(bool) = need(lib, "_ZN5torch3jit20overrideCanFuseOnCPUEb");
    bool (*can_fuse_on_cpu)(void) = need(lib, "_ZN5torch3jit12canFuseOnCPUEv");
    void (*set_te_fuser_enabled)(bool) = need(lib, "_ZN5torch3jit25setTensorExprFuserEnabledEb");
    bool (*te_fuser_enabled)(void) = need(lib, "_ZN5torch3jit22tensorExprFuserEnabledEv");
    bool *(*te_must_use_llvm_on_cpu)(void) = need(lib, "_ZN5torch3jit10tensorexpr21getTEMustUseLLVMOnCPUEv");
    void (*set_fallback_allowed)(bool) = need(lib, "_ZN5torch3jit10tensorexpr18setFallbackAllowedEb");
    bool (*fallback_allowed)(void) = need(lib, "_ZN5torch3jit10tensorexpr15fallbackAllowedEv");

    if (has(sw, "fuse")) {
        override_can_fuse_on_cpu(true);
        set_te_fuser_enabled(true);
    }
    if (has(sw, "interp")) {
        *te_must_use_llvm_on_cpu() = false;
    }
    if (has(sw, "fallback")) {
        set_fallback_allowed(true);
    }
    fprintf(stderr, "fuser_switches: [%s] canFuseOnCPU=%d tensorExprFuserEnabled=%d TEMustUseLLVMOnCPU=%d fallbackAllowed=%d\n",
            sw, can_fuse_on_cpu(), te_fuser_enabled(), *te_must_use_llvm_on_cpu(), fallback_allowed());
    dlclose(lib);
}
