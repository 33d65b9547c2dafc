/*
 * print.c: terms as io_lib:format("~w") writes them, ~p's single-line
 * form, and the public print entry points.
 *
 * Everything follows OTP 25's stdlib (io_lib.erl, io_lib_pretty.erl):
 *  - atoms via io_lib:write_atom_as_latin1: quoted when a reserved word,
 *    when not starting with a-z or a Latin-1 lowercase letter, or when any
 *    character is outside [a-zA-Z0-9_@] and Latin-1 letters; inside quotes
 *    \' \\ \n \r \t \v \b \f \e \d, other controls below 160 as \ooo, and
 *    characters above 255 as \x{HEX};
 *  - ~p prints a proper list of Latin-1 printable character codes as a
 *    string (io_lib:printable_latin1_list, the default +pc latin1), and a
 *    byte-aligned, non-empty binary of printable Latin-1 bytes as
 *    <<"...">>;
 *  - bit strings end in Size:Value (<<1,2:3>>).
 * The text is UTF-8: a character 160..255 that io_lib emits as one code
 * point becomes two bytes here.
 */
#include <string.h>

#include "core/mem.h"
#include "core/utf8.h"
#include "edist/err.h"
#include "etf/atomsyntax.h"
#include "etf/funinfo.h"
#include "etf/keyorder.h"
#include "etf/text_int.h"

#define PRINT_DEFAULT_MAX ((size_t)64 << 20)

/* ------------------------------------------------------------ the sink */

void text_put(text_out *o, const char *s, size_t n)
{
    if (o->err)
        return;
    if (n > o->max - o->len) {
        o->err = EDIST_ETOOBIG;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (o->len + i + 1 < o->cap)
            o->buf[o->len + i] = s[i];
        /* The text is valid UTF-8 by construction, except for node names
         * printed bare (ASCII only) and atoms with invalid bytes, which
         * are printed as Latin-1 and so re-encoded: decode loosely. */
        if (c < 0x80) {
            o->u_need = 0;
            text_count_cp(o, c);
        } else if ((c & 0xC0) == 0x80) {
            if (o->u_need > 0) {
                o->u_cp = o->u_cp << 6 | (c & 0x3F);
                if (--o->u_need == 0)
                    text_count_cp(o, o->u_cp);
            }
        } else {
            o->u_need = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : 1;
            o->u_cp = c & (0x3F >> o->u_need);
        }
    }
    o->len += n;
}

void text_putc(text_out *o, char c)
{
    text_put(o, &c, 1);
}

void text_spaces(text_out *o, size_t n)
{
    static const char sp[] = "                                ";
    while (n && !o->err) {
        size_t k = n < sizeof sp - 1 ? n : sizeof sp - 1;
        text_put(o, sp, k);
        n -= k;
    }
}

static void put_str(text_out *o, const char *s)
{
    text_put(o, s, strlen(s));
}

static void put_u64(text_out *o, uint64_t v)
{
    char b[24];
    size_t k = sizeof b;
    do {
        b[--k] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    text_put(o, b + k, sizeof b - k);
}

static void put_i64(text_out *o, int64_t v)
{
    if (v < 0) {
        text_putc(o, '-');
        put_u64(o, (uint64_t)0 - (uint64_t)v);
    } else {
        put_u64(o, (uint64_t)v);
    }
}

/* One code point as UTF-8. */
static void put_cp(text_out *o, uint32_t cp)
{
    uint8_t b[4];
    int n = edist_utf8_encode(cp, b);
    if (n > 0)
        text_put(o, (const char *)b, (size_t)n);
}

/* ------------------------------------------------- characters, strings */

enum { ENC_LATIN1, ENC_UNICODE, ENC_AS_LATIN1 };

/* io_lib:string_char/4. */
static void put_char(text_out *o, uint32_t c, char q, int enc)
{
    static const char hex[] = "0123456789ABCDEF";
    if (c == (uint32_t)(unsigned char)q || c == '\\') {
        text_putc(o, '\\');
        text_putc(o, (char)c);
    } else if (c >= ' ' && c <= '~') {
        text_putc(o, (char)c);
    } else if (c >= 0xA0 && (c <= 0xFF || enc == ENC_UNICODE)) {
        put_cp(o, c);
    } else if (c > 0xFF) {
        char b[16];
        size_t k = sizeof b;
        b[--k] = '}';
        do {
            b[--k] = hex[c & 15];
            c >>= 4;
        } while (c);
        text_put(o, "\\x{", 3);
        text_put(o, b + k, sizeof b - k);
    } else {
        const char *esc = NULL;
        switch (c) {
        case '\n':
            esc = "\\n";
            break;
        case '\r':
            esc = "\\r";
            break;
        case '\t':
            esc = "\\t";
            break;
        case '\v':
            esc = "\\v";
            break;
        case '\b':
            esc = "\\b";
            break;
        case '\f':
            esc = "\\f";
            break;
        case 27:
            esc = "\\e";
            break;
        case 127:
            esc = "\\d";
            break;
        }
        if (esc) {
            text_put(o, esc, 2);
        } else {
            char b[4] = {'\\', (char)('0' + (c >> 6)),
                         (char)('0' + ((c >> 3) & 7)), (char)('0' + (c & 7))};
            text_put(o, b, 4);
        }
    }
}

/* Next code point of an atom's text; an invalid byte stands for itself
 * (Latin-1), so that any bytes print. */
static size_t next_cp(const uint8_t *s, size_t n, uint32_t *cp)
{
    int k = edist_utf8_decode(s, n, cp);
    if (k > 0)
        return (size_t)k;
    *cp = s[0];
    return 1;
}

static int atom_needs_quotes(const uint8_t *s, size_t n)
{
    if (n == 0 || text_reserved_word(s, n))
        return 1;
    uint32_t c;
    size_t i = next_cp(s, n, &c);
    if (!text_atom_start(c))
        return 1;
    while (i < n) {
        i += next_cp(s + i, n - i, &c);
        if (!text_atom_char(c))
            return 1;
    }
    return 0;
}

static void put_atom(text_out *o, edist_atom a, const edist_print_opts *op)
{
    /* ~tw/~tp use io_lib:write_atom, which leaves characters above 255
     * unescaped; ~w/~p use write_atom_as_latin1. */
    int enc = op->unicode ? ENC_UNICODE : ENC_AS_LATIN1;
    const uint8_t *s = (const uint8_t *)a.name;
    if (!atom_needs_quotes(s, a.len)) {
        /* Unquoted atoms hold only ASCII and Latin-1 letters. */
        for (size_t i = 0; i < a.len;) {
            uint32_t c;
            i += next_cp(s + i, a.len - i, &c);
            put_cp(o, c);
        }
        return;
    }
    text_putc(o, '\'');
    for (size_t i = 0; i < a.len;) {
        uint32_t c;
        i += next_cp(s + i, a.len - i, &c);
        put_char(o, c, '\'', enc);
    }
    text_putc(o, '\'');
}

/* A node name in the remote pid/port/ref forms: bare when it is made of
 * [A-Za-z0-9_@.-] only, else a quoted atom. */
static void put_node(text_out *o, edist_atom a)
{
    int bare = a.len > 0;
    for (size_t i = 0; i < a.len && bare; i++) {
        unsigned char c = (unsigned char)a.name[i];
        bare = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               (c >= '0' && c <= '9') || c == '_' || c == '@' || c == '.' ||
               c == '-';
    }
    if (bare) {
        text_put(o, a.name, a.len);
        return;
    }
    text_putc(o, '\'');
    const uint8_t *s = (const uint8_t *)a.name;
    for (size_t i = 0; i < a.len;) {
        uint32_t c;
        i += next_cp(s + i, a.len - i, &c);
        put_char(o, c, '\'', ENC_AS_LATIN1);
    }
    text_putc(o, '\'');
}

/* --------------------------------------------------------- integers */

static void put_bigint(text_out *o, const edist_term *t,
                       const edist_print_opts *op)
{
    size_t n = t->v.big.n, nl = (n + 3) / 4;
    const edist_allocator *al = edist_mem_resolve(op->alloc);
    /* Limbs, then the 9-digit groups (at most nl * 32 / 29 + 1 of them). */
    size_t ng = nl * 32 / 29 + 2;
    if (nl > SIZE_MAX / 16) {
        o->err = EDIST_ENOMEM;
        return;
    }
    uint32_t *limb = edist_mem_alloc(al, (nl + ng) * sizeof *limb);
    if (!limb) {
        if (!o->err)
            o->err = EDIST_ENOMEM;
        return;
    }
    uint32_t *grp = limb + nl;
    memset(limb, 0, nl * sizeof *limb);
    for (size_t i = 0; i < n; i++)
        limb[i / 4] |= (uint32_t)t->v.big.digits[i] << (8 * (i % 4));
    size_t top = nl, g = 0;
    while (top && limb[top - 1] == 0)
        top--;
    while (top) {
        uint64_t rem = 0;
        for (size_t i = top; i-- > 0;) {
            uint64_t cur = rem << 32 | limb[i];
            limb[i] = (uint32_t)(cur / 1000000000u);
            rem = cur % 1000000000u;
        }
        grp[g++] = (uint32_t)rem;
        while (top && limb[top - 1] == 0)
            top--;
    }
    if (t->v.big.negative)
        text_putc(o, '-');
    if (g == 0)
        text_putc(o, '0');
    for (size_t i = g; i-- > 0;) {
        char b[9];
        uint32_t v = grp[i];
        for (int k = 8; k >= 0; k--) {
            b[k] = (char)('0' + v % 10);
            v /= 10;
        }
        size_t skip = 0;
        if (i == g - 1)
            while (skip < 8 && b[skip] == '0')
                skip++;
        text_put(o, b + skip, 9 - skip);
    }
    edist_mem_free(al, limb);
}

/* ------------------------------------------------ pids, ports, refs */

static int is_local(const edist_print_opts *op, edist_atom node,
                    uint32_t creation)
{
    if (!op->local_node.len || op->local_node.len != node.len ||
        memcmp(op->local_node.name, node.name, node.len) != 0)
        return 0;
    return op->local_creation == 0 || op->local_creation == creation;
}

static void put_remote(text_out *o, const char *tag, edist_atom node,
                       uint32_t creation)
{
    put_str(o, tag);
    put_node(o, node);
    text_putc(o, '/');
    put_u64(o, creation);
}

static void put_pid(text_out *o, const edist_term *t,
                    const edist_print_opts *op)
{
    if (is_local(op, t->v.pid.node, t->v.pid.creation))
        text_put(o, "<0", 2);
    else
        put_remote(o, "#Pid<", t->v.pid.node, t->v.pid.creation);
    text_putc(o, '.');
    put_u64(o, t->v.pid.id);
    text_putc(o, '.');
    put_u64(o, t->v.pid.serial);
    text_putc(o, '>');
}

static void put_port(text_out *o, const edist_term *t,
                     const edist_print_opts *op)
{
    if (is_local(op, t->v.port.node, t->v.port.creation))
        put_str(o, "#Port<0");
    else
        put_remote(o, "#Port<", t->v.port.node, t->v.port.creation);
    text_putc(o, '.');
    put_u64(o, t->v.port.id);
    text_putc(o, '>');
}

static void put_ref(text_out *o, const edist_term *t,
                    const edist_print_opts *op)
{
    if (is_local(op, t->v.ref.node, t->v.ref.creation))
        put_str(o, "#Ref<0");
    else
        put_remote(o, "#Ref<", t->v.ref.node, t->v.ref.creation);
    uint32_t n = t->v.ref.len > 5 ? 5 : t->v.ref.len;
    /* erlang:ref_to_list/1 prints the most significant word first. */
    for (uint32_t i = n; i-- > 0;) {
        text_putc(o, '.');
        put_u64(o, t->v.ref.ids[i]);
    }
    text_putc(o, '>');
}

/* #Fun<Module.OldIndex.OldUniq>, as fun_to_list/1 prints a local fun. */
static void put_fun(text_out *o, const edist_term *t,
                    const edist_print_opts *op)
{
    fun_info fi;
    fun_info_get(t, &fi);
    uint32_t old_index = fi.old_index, old_uniq = fi.old_uniq;
    put_str(o, "#Fun<");
    put_atom(o, t->v.fun.module, op);
    text_putc(o, '.');
    put_u64(o, old_index);
    text_putc(o, '.');
    put_u64(o, old_uniq);
    text_putc(o, '>');
}

/* ----------------------------------------------------------- binaries */

size_t text_bin_segment(const edist_term *t, size_t i, char seg[24])
{
    size_t n = t->v.bin.size;
    if (i >= n)
        return 0;
    unsigned v = t->v.bin.data[i];
    unsigned bits = 8;
    if (i == n - 1 && t->v.bin.bits < 8) {
        bits = t->v.bin.bits;
        v >>= 8 - bits;
    }
    size_t k = 0;
    char d[4];
    size_t m = 0;
    do {
        d[m++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (m)
        seg[k++] = d[--m];
    if (bits < 8) {
        seg[k++] = ':';
        seg[k++] = (char)('0' + bits);
    }
    return k;
}

/* printable_char/2 of io_lib_pretty, for the latin1 or unicode range. */
static int printable_char(int64_t c, int uni)
{
    if (c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\b' ||
        c == '\f' || c == 27 || (c >= 32 && c <= 126))
        return 1;
    if (!uni)
        return c >= 0xA0 && c <= 0xFF;
    return (c >= 0xA0 && c < 0xD800) || (c > 0xDFFF && c < 0xFFFE) ||
           (c > 0xFFFF && c <= 0x10FFFF);
}

int text_printable_bin(const edist_term *t, const edist_print_opts *op)
{
    size_t n = t->v.bin.size;
    const uint8_t *d = t->v.bin.data;
    if (t->v.bin.bits != 8 || n == 0)
        return TEXT_BIN_BYTES;
    if (op->unicode && edist_utf8_count(d, n) >= 0) {
        /* ~tp: valid UTF-8 prints as a string when every character is
         * printable (in the +pc range); with multi-byte characters it
         * takes the /utf8 suffix. */
        int multi = 0;
        for (size_t i = 0; i < n;) {
            uint32_t c;
            i += (size_t)edist_utf8_decode(d + i, n - i, &c);
            if (!printable_char(c, op->printable_unicode))
                return TEXT_BIN_BYTES;
            multi |= c > 0x7F;
        }
        return multi ? TEXT_BIN_UTF8 : TEXT_BIN_STRING;
    }
    for (size_t i = 0; i < n; i++)
        if (!printable_char(d[i], 0))
            return TEXT_BIN_BYTES;
    return TEXT_BIN_STRING;
}

static void put_binary(text_out *o, const edist_term *t,
                       const edist_print_opts *op, int strings)
{
    int cls = strings ? text_printable_bin(t, op) : TEXT_BIN_BYTES;
    text_put(o, "<<", 2);
    if (cls == TEXT_BIN_STRING) {
        text_putc(o, '"');
        for (size_t i = 0; i < t->v.bin.size; i++)
            put_char(o, t->v.bin.data[i], '"', ENC_UNICODE);
        text_putc(o, '"');
    } else if (cls == TEXT_BIN_UTF8) {
        text_putc(o, '"');
        for (size_t i = 0; i < t->v.bin.size;) {
            uint32_t c;
            i += (size_t)edist_utf8_decode(t->v.bin.data + i, t->v.bin.size - i,
                                           &c);
            put_char(o, c, '"', ENC_UNICODE);
        }
        text_put(o, "\"/utf8", 6);
    } else {
        char seg[24];
        size_t k;
        for (size_t i = 0; (k = text_bin_segment(t, i, seg)) > 0; i++) {
            if (i)
                text_putc(o, ',');
            text_put(o, seg, k);
        }
    }
    text_put(o, ">>", 2);
}

/* -------------------------------------------------------------- lists */

/* A proper list of printable character codes: io_lib's
 * printable_latin1_list, or with ~tp printable_list under the +pc
 * range. */
int text_printable_list(const edist_term *t, const edist_print_opts *op)
{
    int uni = op->unicode && op->printable_unicode;
    for (;;) {
        if (t->type != EDIST_TERM_LIST)
            return 0;
        for (size_t i = 0; i < t->v.list.len; i++) {
            const edist_term *e = &t->v.list.elems[i];
            if (e->type != EDIST_TERM_INT || !printable_char(e->v.i, uni))
                return 0;
        }
        t = t->v.list.tail;
        if (t->type == EDIST_TERM_NIL)
            return 1;
    }
}

static void put_list(text_out *o, const edist_term *t,
                     const edist_print_opts *op, int strings)
{
    if (strings && text_printable_list(t, op)) {
        int enc = op->unicode ? ENC_UNICODE : ENC_LATIN1;
        text_putc(o, '"');
        for (; t->type == EDIST_TERM_LIST; t = t->v.list.tail)
            for (size_t i = 0; i < t->v.list.len; i++)
                put_char(o, (uint32_t)t->v.list.elems[i].v.i, '"', enc);
        text_putc(o, '"');
        return;
    }
    text_putc(o, '[');
    int first = 1;
    for (;;) {
        for (size_t i = 0; i < t->v.list.len && !o->err; i++) {
            if (!first)
                text_putc(o, ',');
            first = 0;
            text_write(o, &t->v.list.elems[i], op, strings);
        }
        t = t->v.list.tail;
        if (t->type == EDIST_TERM_LIST && t->v.list.len)
            continue;
        if (t->type != EDIST_TERM_NIL) {
            text_putc(o, '|');
            text_write(o, t, op, strings);
        }
        break;
    }
    text_putc(o, ']');
}

/* --------------------------------------------------------------- maps */

int text_map_order(const edist_term *m, size_t *idx, const edist_allocator *al)
{
    size_t n = m->v.map.size;
    size_t *tmp = edist_mem_alloc(al, n * sizeof *tmp);
    if (!tmp)
        return EDIST_ENOMEM;
    term_key_order(m->v.map.keys, 1, idx, tmp, n);
    edist_mem_free(al, tmp);
    return 0;
}

static void put_map(text_out *o, const edist_term *t,
                    const edist_print_opts *op, int strings)
{
    size_t n = t->v.map.size;
    if (n == 0) {
        text_put(o, "#{}", 3);
        return;
    }
    const edist_allocator *al = edist_mem_resolve(op->alloc);
    size_t *idx = n <= SIZE_MAX / sizeof *idx
                      ? edist_mem_alloc(al, n * sizeof *idx)
                      : NULL;
    if (!idx || text_map_order(t, idx, al) < 0) {
        edist_mem_free(al, idx);
        if (!o->err)
            o->err = EDIST_ENOMEM;
        return;
    }
    text_put(o, "#{", 2);
    for (size_t i = 0; i < n && !o->err; i++) {
        if (i)
            text_putc(o, ',');
        text_write(o, &t->v.map.keys[idx[i]], op, strings);
        text_put(o, " => ", 4);
        text_write(o, &t->v.map.values[idx[i]], op, strings);
    }
    text_putc(o, '}');
    edist_mem_free(al, idx);
}

/* -------------------------------------------------------------- terms */

void text_write(text_out *o, const edist_term *t, const edist_print_opts *op,
                int strings)
{
    char fb[40];
    if (o->err)
        return;
    switch (t->type) {
    case EDIST_TERM_INT:
        put_i64(o, t->v.i);
        return;
    case EDIST_TERM_BIGINT:
        put_bigint(o, t, op);
        return;
    case EDIST_TERM_FLOAT:
        text_put(o, fb, text_float(t->v.f, fb));
        return;
    case EDIST_TERM_ATOM:
        put_atom(o, t->v.atom, op);
        return;
    case EDIST_TERM_REF:
        put_ref(o, t, op);
        return;
    case EDIST_TERM_FUN:
        put_fun(o, t, op);
        return;
    case EDIST_TERM_EXPORT:
        put_str(o, "fun ");
        put_atom(o, t->v.exp.module, op);
        text_putc(o, ':');
        put_atom(o, t->v.exp.function, op);
        text_putc(o, '/');
        put_u64(o, t->v.exp.arity);
        return;
    case EDIST_TERM_PORT:
        put_port(o, t, op);
        return;
    case EDIST_TERM_PID:
        put_pid(o, t, op);
        return;
    case EDIST_TERM_TUPLE:
        text_putc(o, '{');
        for (size_t i = 0; i < t->v.tuple.arity && !o->err; i++) {
            if (i)
                text_putc(o, ',');
            text_write(o, &t->v.tuple.elems[i], op, strings);
        }
        text_putc(o, '}');
        return;
    case EDIST_TERM_MAP:
        put_map(o, t, op, strings);
        return;
    case EDIST_TERM_NIL:
        text_put(o, "[]", 2);
        return;
    case EDIST_TERM_LIST:
        put_list(o, t, op, strings);
        return;
    case EDIST_TERM_BINARY:
        put_binary(o, t, op, strings);
        return;
    }
    o->err = EDIST_EINVAL;
}

/* ------------------------------------------------------------ the API */

int edist_term_print(const edist_term *t, const edist_print_opts *opts,
                     char *buf, size_t cap, size_t *len)
{
    static const edist_print_opts defaults;
    if (!t || !len || (!buf && cap))
        return EDIST_EINVAL;
    const edist_print_opts *op = opts ? opts : &defaults;
    text_out o;
    memset(&o, 0, sizeof o);
    o.buf = buf;
    o.cap = cap;
    o.max = op->max_output ? op->max_output : PRINT_DEFAULT_MAX;
    if (op->style == EDIST_TEXT_P)
        text_pretty(&o, t, op);
    else
        text_write(&o, t, op, 0);
    if (cap)
        buf[o.len < cap ? o.len : cap - 1] = '\0';
    *len = o.len;
    return o.err;
}

int edist_term_print_arena(edist_arena *a, const edist_term *t,
                           const edist_print_opts *opts, char **out,
                           size_t *len)
{
    if (!a || !out)
        return EDIST_EINVAL;
    size_t need;
    char small[256];
    int rc = edist_term_print(t, opts, small, sizeof small, &need);
    if (rc < 0)
        return rc;
    char *s = edist_arena_alloc(a, need + 1);
    if (!s)
        return EDIST_ENOMEM;
    if (need < sizeof small) {
        memcpy(s, small, need + 1);
    } else {
        size_t again;
        rc = edist_term_print(t, opts, s, need + 1, &again);
        if (rc < 0)
            return rc;
    }
    *out = s;
    if (len)
        *len = need;
    return 0;
}
