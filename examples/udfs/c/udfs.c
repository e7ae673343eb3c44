/*
 * Example UDFs in C: a scalar over integers, a string reverse, a NULL-aware
 * scalar and an aggregate. Build (Debian: apt-get install clang lld
 * wasi-libc libclang-rt-14-dev-wasm32):
 *
 *     clang --target=wasm32-wasi -O2 -mbulk-memory -mexec-model=reactor \
 *         -I ../../../udf/sdk/c -o udfs.wasm udfs.c
 */
#include "arroyo_udf.h"

ARROYO_MANIFEST(
    "scalar c_add_one(BIGINT) -> BIGINT\n"
    "scalar c_reverse(TEXT) -> TEXT\n"
    "scalar c_nvl(BIGINT NULL, BIGINT) -> BIGINT\n"
    "aggregate c_mean(DOUBLE) -> DOUBLE NULL\n")

/* c_add_one(x) = x + 1 (a row whose x is NULL is not passed). */
static int add_one(const arroyo_input *in, arroyo_output *out) {
    const int64_t *x = arroyo_values(in, 0);
    int64_t *r = arroyo_result_fixed(out, in->n, sizeof(int64_t));
    for (uint32_t i = 0; i < in->n; i++) r[i] = x[i] + 1;
    return 0;
}

/* c_reverse(s): the code points of s in reverse order. An ASCII value
 * (the common case) is reversed byte-wise by the SDK's helper, 16 bytes
 * at a time; other values a code point at a time. */
static int reverse(const arroyo_input *in, arroyo_output *out) {
    const arroyo_arg *a = &in->args[0];
    arroyo_text t = arroyo_text_begin(out, in->n, a->offsets[in->n] - a->offsets[0]);
    for (uint32_t i = 0; i < in->n; i++) {
        uint32_t len;
        const char *s = arroyo_bytes(in, 0, i, &len);
        char *d = arroyo_text_reserve(&t, i, len);
        if (d == NULL) return arroyo_fail(out, "out of memory");
        if (arroyo_is_ascii(s, len)) {
            arroyo_reverse_bytes(d, s, len);
            continue;
        }
        uint32_t j = len;
        for (uint32_t k = 0; k < len;) {
            uint32_t size = arroyo_utf8_len((unsigned char)s[k]);
            if (size > len - k) size = len - k;
            j -= size;
            for (uint32_t b = 0; b < size; b++) d[j + b] = s[k + b];
            k += size;
        }
    }
    return 0;
}

/* c_nvl(x, y) = x, or y where x is NULL: x is declared nullable, so the
 * host passes its NULLs. */
static int nvl(const arroyo_input *in, arroyo_output *out) {
    const int64_t *x = arroyo_values(in, 0), *y = arroyo_values(in, 1);
    int64_t *r = arroyo_result_fixed(out, in->n, sizeof(int64_t));
    for (uint32_t i = 0; i < in->n; i++) r[i] = arroyo_is_null(in, 0, i) ? y[i] : x[i];
    return 0;
}

/* c_mean(xs): the mean of the group's values, NULL for a group of only
 * NULLs (the host leaves NULLs out of the lists). */
static int mean(const arroyo_input *in, arroyo_output *out) {
    const double *x = arroyo_values(in, 0);
    double *r = arroyo_result_fixed(out, in->n, sizeof(double));
    for (uint32_t g = 0; g < in->n; g++) {
        uint32_t start = arroyo_list_start(in, 0, g), n = arroyo_list_len(in, 0, g);
        if (n == 0) {
            arroyo_set_null(out, in->n, g);
            r[g] = 0;
            continue;
        }
        double sum = 0;
        for (uint32_t k = 0; k < n; k++) sum += x[start + k];
        r[g] = sum / n;
    }
    return 0;
}

ARROYO_FUNCTIONS(add_one, reverse, nvl, mean)
