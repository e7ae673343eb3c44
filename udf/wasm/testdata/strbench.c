/*
 * String UDFs the benchmarks compare the C example's c_reverse with
 * (bench_test.go): s_echo returns its input as it is (the host's
 * marshalling alone), s_rev_bytewise is the natural byte-at-a-time reverse
 * a first C version of c_reverse had, s_rev_words reverses 8 bytes at a
 * time without SIMD.
 */
#include "arroyo_udf.h"

ARROYO_MANIFEST(
    "scalar s_echo(TEXT) -> TEXT\n"
    "scalar s_rev_bytewise(TEXT) -> TEXT\n"
    "scalar s_rev_words(TEXT) -> TEXT\n")

/* s_echo(s) = s: the result is the input's own offsets and bytes. */
static int echo(const arroyo_input *in, arroyo_output *out) {
    out->offsets = in->args[0].offsets;
    out->values = in->args[0].values;
    return 0;
}

/* The code points of s in reverse order, a byte at a time. */
static int rev_bytewise(const arroyo_input *in, arroyo_output *out) {
    const arroyo_arg *a = &in->args[0];
    arroyo_text t = arroyo_text_begin(out, in->n, a->offsets[in->n] - a->offsets[0]);
    for (uint32_t i = 0; i < in->n; i++) {
        uint32_t len;
        const char *s = arroyo_bytes(in, 0, i, &len);
        char *d = arroyo_text_reserve(&t, i, len);
        if (d == NULL) return arroyo_fail(out, "out of memory");
        uint32_t j = len;
        for (uint32_t k = 0; k < len;) {
            unsigned char c = (unsigned char)s[k];
            if (c < 0x80) {
                d[--j] = (char)c;
                k++;
                continue;
            }
            uint32_t size = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
            if (k + size > len) size = len - k;
            j -= size;
            for (uint32_t b = 0; b < size; b++) d[j + b] = s[k + b];
            k += size;
        }
    }
    return 0;
}

/* ASCII values reversed 8 bytes at a time (integer ops only), others a
 * byte at a time as above. */
static int rev_words(const arroyo_input *in, arroyo_output *out) {
    const arroyo_arg *a = &in->args[0];
    arroyo_text t = arroyo_text_begin(out, in->n, a->offsets[in->n] - a->offsets[0]);
    for (uint32_t i = 0; i < in->n; i++) {
        uint32_t len;
        const char *s = arroyo_bytes(in, 0, i, &len);
        char *d = arroyo_text_reserve(&t, i, len);
        if (d == NULL) return arroyo_fail(out, "out of memory");
        uint64_t high = 0;
        uint32_t k = 0;
        for (; k + 8 <= len; k += 8) {
            uint64_t w;
            memcpy(&w, s + k, 8);
            high |= w;
            w = __builtin_bswap64(w);
            memcpy(d + len - 8 - k, &w, 8);
        }
        for (; k < len; k++) {
            high |= (unsigned char)s[k];
            d[len - 1 - k] = s[k];
        }
        if ((high & 0x8080808080808080ull) == 0) continue;
        uint32_t j = len;
        for (k = 0; k < len;) {
            uint32_t size = arroyo_utf8_len((unsigned char)s[k]);
            if (size > len - k) size = len - k;
            j -= size;
            for (uint32_t b = 0; b < size; b++) d[j + b] = s[k + b];
            k += size;
        }
    }
    return 0;
}

ARROYO_FUNCTIONS(echo, rev_bytewise, rev_words)
