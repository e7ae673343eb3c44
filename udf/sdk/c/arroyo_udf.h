/*
 * arroyo_udf.h: write Arroyo UDFs in C (UDF ABI version 1, docs/udf-abi.md).
 *
 * One header, no other dependency than wasi-libc's malloc. In exactly one
 * source file of the module:
 *
 *     #include "arroyo_udf.h"
 *
 *     ARROYO_MANIFEST(
 *         "scalar add_one(BIGINT) -> BIGINT\n"
 *         "aggregate c_sum(BIGINT) -> BIGINT\n")
 *
 *     static int add_one(const arroyo_input *in, arroyo_output *out) {
 *         const int64_t *x = arroyo_values(in, 0);
 *         int64_t *r = arroyo_result_fixed(out, in->n, sizeof(int64_t));
 *         for (uint32_t i = 0; i < in->n; i++) r[i] = x[i] + 1;
 *         return 0;
 *     }
 *     ...
 *     ARROYO_FUNCTIONS(add_one, c_sum)
 *
 * The functions are listed in manifest order. Each is called once per
 * batch with in->n rows (an aggregate: in->n groups, each argument a list,
 * see arroyo_list_start) and fills out with in->n results; it returns 0,
 * or calls arroyo_fail and returns its value.
 *
 * TEXT helpers (arroyo_is_ascii, arroyo_reverse_bytes, arroyo_utf8_len)
 * work 16 bytes at a time: a byte-at-a-time loop costs ~40 machine
 * instructions a byte in the host's compiled code (bounds checks).
 *
 * Build a reactor module with Debian's clang, lld and wasi-libc:
 *
 *     clang --target=wasm32-wasi -O2 -mbulk-memory -mexec-model=reactor -o udfs.wasm udfs.c
 */
#ifndef ARROYO_UDF_H
#define ARROYO_UDF_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ARROYO_UDF_ABI 1

/* One argument column. Fixed-width values (BOOLEAN as one byte 0/1,
 * integers, floats, TIMESTAMP as int64 nanoseconds since the epoch, UTC)
 * are an array at values; TEXT, BYTEA and JSON are bytes at values, value
 * i being values[offsets[i]] .. values[offsets[i+1]]. nulls, when not
 * NULL, is a bitmap: bit i (byte i/8, bit i%8) set means row i is NULL
 * (only arguments declared "TYPE NULL" carry NULLs). lists, for an
 * aggregate, holds n+1 offsets: group g's values are elements lists[g] ..
 * lists[g+1] of the column. */
typedef struct {
    const uint8_t *nulls;
    const void *values;
    const uint32_t *offsets;
    const uint32_t *lists;
} arroyo_arg;

typedef struct {
    uint32_t n;
    uint32_t nargs;
    arroyo_arg args[];
} arroyo_input;

/* The result descriptor: status, n, nulls, values, offsets, message. */
typedef struct {
    uint32_t status, n;
    const uint8_t *nulls;
    const void *values;
    const uint32_t *offsets;
    const char *msg;
    uint32_t msg_len, reserved;
} arroyo_output;

typedef int (*arroyo_fn)(const arroyo_input *in, arroyo_output *out);

/* Argument i's values, typed by the caller (const int64_t * ...). */
static inline const void *arroyo_values(const arroyo_input *in, uint32_t i) { return in->args[i].values; }

/* Whether row (or element) k of argument i is NULL. */
static inline int arroyo_is_null(const arroyo_input *in, uint32_t i, uint32_t k) {
    const uint8_t *b = in->args[i].nulls;
    return b != NULL && (b[k >> 3] >> (k & 7)) & 1;
}

/* Value k of a TEXT, BYTEA or JSON argument i, and its length. */
static inline const char *arroyo_bytes(const arroyo_input *in, uint32_t i, uint32_t k, uint32_t *len) {
    const arroyo_arg *a = &in->args[i];
    *len = a->offsets[k + 1] - a->offsets[k];
    return (const char *)a->values + a->offsets[k];
}

/* The first element and the element count of group g of aggregate
 * argument i. */
static inline uint32_t arroyo_list_start(const arroyo_input *in, uint32_t i, uint32_t g) { return in->args[i].lists[g]; }
static inline uint32_t arroyo_list_len(const arroyo_input *in, uint32_t i, uint32_t g) {
    return in->args[i].lists[g + 1] - in->args[i].lists[g];
}

/* Buffers reused from call to call. */
typedef struct {
    void *p;
    size_t cap;
} arroyo_buf;

static void *arroyo_grow(arroyo_buf *b, size_t size) {
    if (size > b->cap) {
        free(b->p);
        b->cap = size + size / 4 + 64;
        b->p = malloc(b->cap);
        if (b->p == NULL) {
            b->cap = 0;
            return NULL;
        }
    }
    return b->p;
}

static arroyo_buf arroyo__values, arroyo__nulls, arroyo__offsets, arroyo__arena;

/* The result's value array for n fixed-width values of width bytes. */
static inline void *arroyo_result_fixed(arroyo_output *out, uint32_t n, size_t width) {
    void *p = arroyo_grow(&arroyo__values, n * width + 8);
    out->values = p;
    return p;
}

/* Marks result k NULL (the result must be declared "TYPE NULL"). */
static inline void arroyo_set_null(arroyo_output *out, uint32_t n, uint32_t k) {
    if (out->nulls == NULL) {
        uint8_t *b = arroyo_grow(&arroyo__nulls, (n + 7) / 8);
        memset(b, 0, (n + 7) / 8);
        out->nulls = b;
    }
    ((uint8_t *)out->nulls)[k >> 3] |= (uint8_t)(1u << (k & 7));
}

/* Bytes results (TEXT, BYTEA, JSON): start with arroyo_text_begin, then
 * append each row's value in order with arroyo_text_push (or
 * arroyo_text_null). */
typedef struct {
    arroyo_output *out;
    uint32_t n, len;
} arroyo_text;

static inline arroyo_text arroyo_text_begin(arroyo_output *out, uint32_t n, size_t size_hint) {
    arroyo_text t = {out, n, 0};
    uint32_t *offs = arroyo_grow(&arroyo__offsets, 4 * ((size_t)n + 1));
    offs[0] = 0;
    out->offsets = offs;
    out->values = arroyo_grow(&arroyo__values, size_hint + 8);
    return t;
}

/* Reserves len bytes for row k's value and returns where to write them. */
static inline char *arroyo_text_reserve(arroyo_text *t, uint32_t k, uint32_t len) {
    if ((size_t)t->len + len + 8 > arroyo__values.cap) {
        size_t cap = ((size_t)t->len + len) * 2 + 64;
        void *p = realloc(arroyo__values.p, cap);
        if (p == NULL) return NULL;
        arroyo__values.p = p;
        arroyo__values.cap = cap;
        t->out->values = p;
    }
    char *dst = (char *)arroyo__values.p + t->len;
    t->len += len;
    ((uint32_t *)t->out->offsets)[k + 1] = t->len;
    return dst;
}

static inline void arroyo_text_push(arroyo_text *t, uint32_t k, const char *s, uint32_t len) {
    char *dst = arroyo_text_reserve(t, k, len);
    if (dst != NULL) memcpy(dst, s, len);
}

static inline void arroyo_text_null(arroyo_text *t, uint32_t k) {
    ((uint32_t *)t->out->offsets)[k + 1] = t->len;
    arroyo_set_null(t->out, t->n, k);
}

/* String helpers over whole values, 16 bytes at a time with WebAssembly
 * SIMD (the host enables it; these functions turn it on for themselves,
 * no build flag is needed), 8 at a time for shorter values. */
#define ARROYO__SIMD __attribute__((target("simd128"))) static inline
typedef unsigned char arroyo__u8x16 __attribute__((vector_size(16), aligned(1)));
typedef signed char arroyo__i8x16 __attribute__((vector_size(16), aligned(1)));

static inline uint64_t arroyo__load64(const char *s) {
    uint64_t v;
    memcpy(&v, s, 8);
    return v;
}

static inline uint32_t arroyo__load32(const char *s) {
    uint32_t v;
    memcpy(&v, s, 4);
    return v;
}

/* Whether the len bytes at s are all ASCII (below 0x80): then a byte is a
 * character, and byte-wise code is right for UTF-8 text. */
ARROYO__SIMD int arroyo_is_ascii(const char *s, uint32_t len) {
    if (len >= 16) {
        arroyo__u8x16 acc = *(const arroyo__u8x16 *)(s + len - 16);
        for (uint32_t i = 0; i + 16 <= len; i += 16) acc |= *(const arroyo__u8x16 *)(s + i);
        return __builtin_wasm_bitmask_i8x16((arroyo__i8x16)acc) == 0;
    }
    uint64_t w;
    if (len >= 8) {
        w = arroyo__load64(s) | arroyo__load64(s + len - 8);
    } else if (len >= 4) {
        w = arroyo__load32(s) | arroyo__load32(s + len - 4);
    } else {
        w = 0;
        for (uint32_t i = 0; i < len; i++) w |= (unsigned char)s[i];
    }
    return (w & 0x8080808080808080ull) == 0;
}

/* Writes the len bytes at src to dst in reverse order (dst and src must
 * not overlap). */
ARROYO__SIMD void arroyo_reverse_bytes(char *dst, const char *src, uint32_t len) {
    if (len >= 16) {
        uint32_t i = 0;
        for (; i + 16 <= len; i += 16) {
            arroyo__u8x16 v = *(const arroyo__u8x16 *)(src + len - 16 - i);
            *(arroyo__u8x16 *)(dst + i) = __builtin_shufflevector(v, v, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
        }
        if (i < len) { /* the rest: the first 16 bytes, reversed, end dst */
            arroyo__u8x16 v = *(const arroyo__u8x16 *)src;
            *(arroyo__u8x16 *)(dst + len - 16) = __builtin_shufflevector(v, v, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
        }
        return;
    }
    if (len >= 8) {
        uint64_t a = __builtin_bswap64(arroyo__load64(src)), b = __builtin_bswap64(arroyo__load64(src + len - 8));
        memcpy(dst + len - 8, &a, 8);
        memcpy(dst, &b, 8);
        return;
    }
    for (uint32_t i = 0; i < len; i++) dst[len - 1 - i] = src[i];
}

/* The length of the UTF-8 sequence that starts with byte c (1 to 4; 1 for
 * a byte that cannot start one). */
static inline uint32_t arroyo_utf8_len(unsigned char c) {
    return c < 0xc0 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
}

/* Fails the call with a message the host shows (the job fails). */
static inline int arroyo_fail(arroyo_output *out, const char *msg) {
    out->status = 1;
    out->msg = msg;
    out->msg_len = (uint32_t)strlen(msg);
    return 1;
}

#define ARROYO_EXPORT(name) __attribute__((export_name(#name)))

/* ARROYO_MANIFEST(lines) declares the functions, one line each:
 * "scalar NAME(TYPE, ...) -> TYPE" or "aggregate ...", a type followed by
 * NULL when it may be NULL. */
#define ARROYO_MANIFEST(lines)                                                        \
    static const char arroyo__manifest[] = "arroyo-udf 1\n" lines;                    \
    ARROYO_EXPORT(arroyo_udf_abi) int32_t arroyo_udf_abi(void) { return ARROYO_UDF_ABI; } \
    ARROYO_EXPORT(arroyo_udf_manifest) uint64_t arroyo_udf_manifest(void) {           \
        return (uint64_t)(uintptr_t)arroyo__manifest |                                \
               ((uint64_t)(sizeof arroyo__manifest - 1) << 32);                       \
    }                                                                                 \
    ARROYO_EXPORT(arroyo_udf_alloc) void *arroyo_udf_alloc(int32_t size) {            \
        return arroyo_grow(&arroyo__arena, (size_t)size);                             \
    }

/* ARROYO_FUNCTIONS(f, g, ...) lists the functions in manifest order and
 * defines the call entry point. */
#define ARROYO_FUNCTIONS(...)                                                         \
    static const arroyo_fn arroyo__fns[] = {__VA_ARGS__};                             \
    static arroyo_output arroyo__out;                                                 \
    ARROYO_EXPORT(arroyo_udf_call) arroyo_output *arroyo_udf_call(int32_t fn, const arroyo_input *in) { \
        memset(&arroyo__out, 0, sizeof arroyo__out);                                  \
        arroyo__out.n = in->n;                                                        \
        if (fn < 0 || (size_t)fn >= sizeof arroyo__fns / sizeof arroyo__fns[0]) {    \
            arroyo_fail(&arroyo__out, "no such function");                            \
            return &arroyo__out;                                                      \
        }                                                                             \
        if (in->n > 0 && arroyo__fns[fn](in, &arroyo__out) != 0 && arroyo__out.status == 0) \
            arroyo_fail(&arroyo__out, "the function failed");                         \
        return &arroyo__out;                                                          \
    }

#endif /* ARROYO_UDF_H */
