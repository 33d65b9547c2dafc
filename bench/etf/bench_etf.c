/*
 * bench_etf.c: edist's ETF codec against libei, item by item.
 *
 * Each item is a term built once as an edist tree.  For every item:
 *   decode  edist stream: walk the bytes with edist_etf_reader, extracting
 *                         every value into C values (no allocation);
 *           edist tree:   edist_etf_decode() into an arena (reset per run);
 *           libei:        the same walk with ei_get_type + ei_decode_*;
 *   encode  edist stream: a walker over the tree calling edist_etf_put_*
 *                         into a growable writer;
 *           edist tree:   edist_etf_encode_to() into a preallocated buffer;
 *           libei:        the same walker calling ei_x_encode_* into an
 *                         ei_x_buff (reused across runs, like the writer);
 *           edist gather: the stream walker into a gathering writer
 *                         (edist_etf_writer_gather, the runtime's send
 *                         path): binaries and byte strings of 512 bytes
 *                         and more are referenced, not copied, and the
 *                         result is the pieces a writev() sends.
 * The ratio is libei's time over edist's stream time (> 1: edist faster).
 *
 * Usage: bench_etf [--dump DIR]          table on stdout; with --dump,
 *                                        writes DIR/<item>.bin for BEAM
 *        bench_etf --count ITEM IMPL OP  N fixed runs (for callgrind;
 *                                        IMPL edist|tree|ei|gather,
 *                                        OP dec|enc; gather: enc only)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ei.h>

#include "edist/edist.h"
#include "edist/etf.h"

/* ------------------------------------------------------------ the items */

typedef struct item {
    const char *name;
    edist_term term;
    /* What the encode walkers start from: the term, except that a string
     * is held as C bytes (a binary marked with bits = 0), as a C program
     * holds it. */
    edist_term src;
    uint8_t *bytes; /* encoding with the version byte */
    size_t len;
} item;

static edist_arena *items_arena;
static const edist_atom NODE = {"bench@127.0.0.1", 15};

static edist_term atom(const char *s)
{
    edist_term t;
    if (edist_term_atom(items_arena, &t, s, strlen(s)) < 0)
        abort();
    return t;
}

static edist_term tuple(size_t n)
{
    edist_term t;
    if (edist_term_tuple(items_arena, &t, n) < 0)
        abort();
    return t;
}

static edist_term list(size_t n)
{
    edist_term t;
    if (edist_term_list(items_arena, &t, n) < 0)
        abort();
    return t;
}

static edist_term pid(uint32_t id)
{
    return edist_mk_pid(NODE, id, 0, 3);
}

static void make_items(item *it, size_t *n)
{
    size_t k = 0;
    edist_term t;
    static uint8_t blob[65536], small[32];
    for (size_t i = 0; i < sizeof blob; i++)
        blob[i] = (uint8_t)(i * 131 + 7);
    memset(small, 'b', sizeof small);

    t = tuple(2); /* {Pid, 42} */
    t.v.tuple.elems[0] = pid(77);
    t.v.tuple.elems[1] = edist_mk_int(42);
    it[k++] = (item){"small_tuple", t, t, NULL, 0};

    t = tuple(4); /* {6, From, '', net_kernel}: REG_SEND control */
    t.v.tuple.elems[0] = edist_mk_int(6);
    t.v.tuple.elems[1] = pid(78);
    t.v.tuple.elems[2] = atom("");
    t.v.tuple.elems[3] = atom("net_kernel");
    it[k++] = (item){"reg_send_ctl", t, t, NULL, 0};

    t = list(10000); /* integers of every size class */
    for (int i = 0; i < 10000; i++)
        t.v.list.elems[i] = edist_mk_int(
            i % 3 == 0   ? i % 256
            : i % 3 == 1 ? (int64_t)i * 10007
                         : (int64_t)i * 1000000007LL + (1LL << 40));
    it[k++] = (item){"int_list_10k", t, t, NULL, 0};

    static char text[1000];
    for (int i = 0; i < 1000; i++)
        text[i] = (char)('a' + i % 26);
    if (edist_term_string(items_arena, &t, text, sizeof text) < 0)
        abort();
    it[k] = (item){"string_1k", t, edist_mk_binary(text, sizeof text), NULL, 0};
    it[k++].src.v.bin.bits = 0;

    if (edist_term_map(items_arena, &t, 1000) < 0) /* #{I => {I, atom}} */
        abort();
    for (int i = 0; i < 1000; i++) {
        t.v.map.keys[i] = edist_mk_int(i * 7);
        edist_term v = tuple(2);
        v.v.tuple.elems[0] = edist_mk_binary(small, 8);
        v.v.tuple.elems[1] = atom(i % 2 ? "value_odd" : "value_even");
        t.v.map.values[i] = v;
    }
    it[k++] = (item){"map_1k", t, t, NULL, 0};

    t = edist_mk_binary(blob, sizeof blob);
    it[k++] = (item){"binary_64k", t, t, NULL, 0};

    t = list(100);
    for (int i = 0; i < 100; i++)
        t.v.list.elems[i] = edist_mk_binary(small, sizeof small);
    it[k++] = (item){"binaries_100x32", t, t, NULL, 0};

    edist_term inner = edist_mk_nil(); /* 200 levels of [{a, ...}] */
    for (int i = 0; i < 200; i++) {
        edist_term tp = tuple(2), l = list(1);
        tp.v.tuple.elems[0] = atom("a");
        tp.v.tuple.elems[1] = inner;
        l.v.list.elems[0] = tp;
        inner = l;
    }
    it[k++] = (item){"deep_200", inner, inner, NULL, 0};

    t = tuple(200);
    for (int i = 0; i < 200; i++) {
        char name[32];
        snprintf(name, sizeof name, "atom_number_%d", i * 37);
        t.v.tuple.elems[i] = atom(name);
    }
    it[k++] = (item){"atoms_200", t, t, NULL, 0};

    t = list(1000);
    for (int i = 0; i < 1000; i++)
        t.v.list.elems[i] = edist_mk_float(i * 1.25 + 0.1);
    it[k++] = (item){"floats_1k", t, t, NULL, 0};

    for (size_t i = 0; i < k; i++) {
        edist_bytes b;
        if (edist_etf_encode(&it[i].term, NULL, &b) < 0)
            abort();
        it[i].bytes = b.data;
        it[i].len = b.len;
    }
    *n = k;
}

/* ----------------------------------------------------- decode: walkers */

typedef struct sink {
    uint64_t sum;
} sink;

/* Both walks are iterative in the same way: a generic walk that extracts
 * every value needs no stack, only the count of items still due (a
 * container adds its elements to it). */
static int walk_edist(edist_etf_reader *r, sink *s)
{
    size_t pending = 1;
    edist_etf_item it;
    while (pending) {
        pending--;
        if (edist_etf_read_next(r, &it) < 0)
            return -1;
        switch (it.type) {
        case EDIST_TERM_INT:
            s->sum += (uint64_t)it.v.i;
            break;
        case EDIST_TERM_FLOAT:
            s->sum += (uint64_t)it.v.f;
            break;
        case EDIST_TERM_ATOM:
            s->sum += it.v.atom.len;
            break;
        case EDIST_TERM_PID:
            s->sum += it.v.id.v.pid.id;
            break;
        case EDIST_TERM_TUPLE:
            pending += it.n;
            break;
        case EDIST_TERM_MAP:
            pending += 2 * it.n;
            break;
        case EDIST_TERM_NIL:
            break;
        case EDIST_TERM_LIST:
            if (it.tag == EDIST_ETF_STRING)
                s->sum += it.n + it.data[0];
            else
                pending += it.n + 1;
            break;
        case EDIST_TERM_BINARY:
            s->sum += it.n + it.data[0];
            break;
        default:
            return -1;
        }
    }
    return 0;
}

/* libei has no zero-copy binary decoding: the walk decodes into a
 * buffer, as ei users do. */
static char ei_scratch[65536 + 16];

static int walk_ei(const char *buf, int *idx, sink *s)
{
    size_t pending = 1;
    int type, size, arity;
    while (pending) {
        pending--;
        if (ei_get_type(buf, idx, &type, &size) < 0)
            return -1;
        switch (type) {
        case ERL_SMALL_INTEGER_EXT:
        case ERL_INTEGER_EXT:
        case ERL_SMALL_BIG_EXT: {
            long long v;
            if (ei_decode_longlong(buf, idx, &v) < 0)
                return -1;
            s->sum += (uint64_t)v;
            break;
        }
        case NEW_FLOAT_EXT:
        case ERL_FLOAT_EXT: {
            double d;
            if (ei_decode_double(buf, idx, &d) < 0)
                return -1;
            s->sum += (uint64_t)d;
            break;
        }
        case ERL_ATOM_EXT:
        case ERL_SMALL_ATOM_EXT:
        case ERL_ATOM_UTF8_EXT:
        case ERL_SMALL_ATOM_UTF8_EXT: {
            char a[MAXATOMLEN_UTF8];
            if (ei_decode_atom_as(buf, idx, a, sizeof a, ERLANG_UTF8, NULL,
                                  NULL) < 0)
                return -1;
            s->sum += (uint64_t)size;
            break;
        }
        case ERL_NEW_PID_EXT:
        case ERL_PID_EXT: {
            erlang_pid p;
            if (ei_decode_pid(buf, idx, &p) < 0)
                return -1;
            s->sum += p.num;
            break;
        }
        case ERL_SMALL_TUPLE_EXT:
        case ERL_LARGE_TUPLE_EXT:
            if (ei_decode_tuple_header(buf, idx, &arity) < 0)
                return -1;
            pending += (size_t)arity;
            break;
        case ERL_MAP_EXT:
            if (ei_decode_map_header(buf, idx, &arity) < 0)
                return -1;
            pending += 2 * (size_t)arity;
            break;
        case ERL_NIL_EXT:
            if (ei_decode_list_header(buf, idx, &arity) < 0)
                return -1;
            break;
        case ERL_STRING_EXT:
            if (ei_decode_string(buf, idx, ei_scratch) < 0)
                return -1;
            s->sum += (uint64_t)size + (uint8_t)ei_scratch[0];
            break;
        case ERL_LIST_EXT:
            if (ei_decode_list_header(buf, idx, &arity) < 0)
                return -1;
            pending += (size_t)arity + 1;
            break;
        case ERL_BINARY_EXT: {
            long len;
            if (ei_decode_binary(buf, idx, ei_scratch, &len) < 0)
                return -1;
            s->sum += (uint64_t)len + (uint8_t)ei_scratch[0];
            break;
        }
        default:
            return -1;
        }
    }
    return 0;
}

/* ----------------------------------------------------- encode: walkers */

static int build_edist(edist_etf_writer *w, const edist_term *t)
{
    switch (t->type) {
    case EDIST_TERM_INT:
        return edist_etf_put_int(w, t->v.i);
    case EDIST_TERM_FLOAT:
        return edist_etf_put_double(w, t->v.f);
    case EDIST_TERM_ATOM:
        return edist_etf_put_atom(w, t->v.atom.name, t->v.atom.len);
    case EDIST_TERM_PID:
        return edist_etf_put_pid(w, t->v.pid.node, t->v.pid.id, t->v.pid.serial,
                                 t->v.pid.creation);
    case EDIST_TERM_TUPLE:
        edist_etf_put_tuple_header(w, t->v.tuple.arity);
        for (size_t i = 0; i < t->v.tuple.arity; i++)
            build_edist(w, &t->v.tuple.elems[i]);
        return w->err;
    case EDIST_TERM_MAP:
        edist_etf_put_map_header(w, t->v.map.size);
        for (size_t i = 0; i < t->v.map.size; i++) {
            build_edist(w, &t->v.map.keys[i]);
            build_edist(w, &t->v.map.values[i]);
        }
        return w->err;
    case EDIST_TERM_NIL:
        return edist_etf_put_nil(w);
    case EDIST_TERM_LIST: {
        /* A byte list goes out as a string, as the item was built. */
        const edist_term *e = t->v.list.elems;
        size_t n = t->v.list.len, i;
        for (i = 0;
             i < n && e[i].type == EDIST_TERM_INT && (uint64_t)e[i].v.i < 256;
             i++)
            ;
        if (i == n && n <= 65535 && t->v.list.tail->type == EDIST_TERM_NIL) {
            static uint8_t s[65535];
            for (i = 0; i < n; i++)
                s[i] = (uint8_t)e[i].v.i;
            return edist_etf_put_string(w, s, n);
        }
        edist_etf_put_list_header(w, n);
        for (i = 0; i < n; i++)
            build_edist(w, &e[i]);
        return build_edist(w, t->v.list.tail);
    }
    case EDIST_TERM_BINARY:
        if (t->v.bin.bits == 0) /* a string held as C bytes */
            return edist_etf_put_string(w, t->v.bin.data, t->v.bin.size);
        return edist_etf_put_binary(w, t->v.bin.data, t->v.bin.size);
    default:
        return -1;
    }
}

static erlang_pid ei_pid_proto;

static int build_ei(ei_x_buff *x, const edist_term *t)
{
    switch (t->type) {
    case EDIST_TERM_INT:
        return ei_x_encode_longlong(x, t->v.i);
    case EDIST_TERM_FLOAT:
        return ei_x_encode_double(x, t->v.f);
    case EDIST_TERM_ATOM:
        return ei_x_encode_atom_len_as(x, t->v.atom.name, (int)t->v.atom.len,
                                       ERLANG_UTF8, ERLANG_UTF8);
    case EDIST_TERM_PID:
        /* A C program holds erlang_pid structs; only the numbers vary. */
        ei_pid_proto.num = t->v.pid.id;
        ei_pid_proto.serial = t->v.pid.serial;
        ei_pid_proto.creation = t->v.pid.creation;
        return ei_x_encode_pid(x, &ei_pid_proto);
    case EDIST_TERM_TUPLE:
        ei_x_encode_tuple_header(x, (long)t->v.tuple.arity);
        for (size_t i = 0; i < t->v.tuple.arity; i++)
            build_ei(x, &t->v.tuple.elems[i]);
        return 0;
    case EDIST_TERM_MAP:
        ei_x_encode_map_header(x, (long)t->v.map.size);
        for (size_t i = 0; i < t->v.map.size; i++) {
            build_ei(x, &t->v.map.keys[i]);
            build_ei(x, &t->v.map.values[i]);
        }
        return 0;
    case EDIST_TERM_NIL:
        return ei_x_encode_empty_list(x);
    case EDIST_TERM_LIST: {
        const edist_term *e = t->v.list.elems;
        size_t n = t->v.list.len, i;
        for (i = 0;
             i < n && e[i].type == EDIST_TERM_INT && (uint64_t)e[i].v.i < 256;
             i++)
            ;
        if (i == n && n <= 65535 && t->v.list.tail->type == EDIST_TERM_NIL) {
            static char s[65535];
            for (i = 0; i < n; i++)
                s[i] = (char)e[i].v.i;
            return ei_x_encode_string_len(x, s, (int)n);
        }
        ei_x_encode_list_header(x, (long)n);
        for (i = 0; i < n; i++)
            build_ei(x, &e[i]);
        return build_ei(x, t->v.list.tail);
    }
    case EDIST_TERM_BINARY:
        if (t->v.bin.bits == 0) /* a string held as C bytes */
            return ei_x_encode_string_len(x, (const char *)t->v.bin.data,
                                          (int)t->v.bin.size);
        return ei_x_encode_binary(x, t->v.bin.data, (int)t->v.bin.size);
    default:
        return -1;
    }
}

/* --------------------------------------------------------------- runs */

enum { IMPL_EDIST, IMPL_TREE, IMPL_EI, IMPL_GATHER };
enum { OP_DEC, OP_ENC };

typedef struct ctx {
    edist_arena *arena;
    edist_etf_writer w;
    edist_etf_writer g; /* gathering */
    edist_etf_ref refs[256];
    ei_x_buff x;
    uint8_t *out;
    size_t out_cap;
    sink s;
} ctx;

/* One run of op by impl on item; returns 0 or aborts on error. */
static void die(const item *it, int impl, int op)
{
    fprintf(stderr, "bench_etf: %s failed (impl %d, op %d)\n", it->name, impl,
            op);
    exit(1);
}

static void run_once(ctx *c, const item *it, int impl, int op)
{
    if (op == OP_DEC) {
        if (impl == IMPL_EDIST) {
            edist_etf_reader r;
            edist_etf_reader_init(&r, it->bytes, it->len, NULL, 0);
            if (edist_etf_read_version(&r) < 0 || walk_edist(&r, &c->s) < 0)
                die(it, impl, op);
        } else if (impl == IMPL_TREE) {
            edist_term t;
            edist_arena_reset(c->arena);
            if (edist_etf_decode(c->arena, it->bytes, it->len, NULL, &t, NULL) <
                0)
                die(it, impl, op);
            c->s.sum += t.type;
        } else {
            int idx = 0, v;
            if (ei_decode_version((const char *)it->bytes, &idx, &v) < 0 ||
                walk_ei((const char *)it->bytes, &idx, &c->s) < 0)
                die(it, impl, op);
        }
        return;
    }
    if (impl == IMPL_EDIST) {
        c->w.len = 0;
        edist_etf_put_version(&c->w);
        if (build_edist(&c->w, &it->src) < 0 || c->w.len != it->len)
            die(it, impl, op);
    } else if (impl == IMPL_GATHER) {
        c->g.len = 0;
        edist_etf_writer_gather(&c->g, 0, c->refs, 256);
        edist_etf_put_version(&c->g);
        if (build_edist(&c->g, &it->src) < 0 ||
            edist_etf_writer_size(&c->g) != it->len)
            die(it, impl, op);
    } else if (impl == IMPL_TREE) {
        size_t n;
        if (edist_etf_encode_to(&it->term, NULL, c->out, c->out_cap, &n) < 0 ||
            n != it->len)
            die(it, impl, op);
    } else {
        c->x.index = 0;
        ei_x_encode_version(&c->x);
        if (build_ei(&c->x, &it->src) < 0 || (size_t)c->x.index != it->len) {
            fprintf(stderr, "libei: %s: %d bytes, want %zu\n", it->name,
                    c->x.index, it->len);
            die(it, impl, op);
        }
    }
}

/* The loop callgrind counts (--toggle-collect=bench_loop). */
__attribute__((noinline)) void bench_loop(ctx *c, const item *it, int impl,
                                          int op, long n);
__attribute__((noinline)) void bench_loop(ctx *c, const item *it, int impl,
                                          int op, long n)
{
    for (long i = 0; i < n; i++)
        run_once(c, it, impl, op);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Runs per batch so that a batch takes ~20 ms. */
static long calibrate(ctx *c, const item *it, int impl, int op)
{
    long n = 1;
    for (;;) {
        double t0 = now();
        bench_loop(c, it, impl, op, n);
        if (now() - t0 > 0.02)
            return n;
        n *= 2;
    }
}

/* Nanoseconds per run of the implementations of op on an item (three
 * for decode, four for encode): batches alternate between them, 7
 * rounds, best batch kept, so that load from other processes hits all
 * alike. */
static void measure3(ctx *c, const item *it, int op, double ns[4])
{
    long n[4];
    int nimpl = op == OP_ENC ? 4 : 3;
    for (int impl = 0; impl < nimpl; impl++) {
        n[impl] = calibrate(c, it, impl, op);
        ns[impl] = 1e300;
    }
    for (int round = 0; round < 7; round++)
        for (int impl = 0; impl < nimpl; impl++) {
            double t0 = now();
            bench_loop(c, it, impl, op, n[impl]);
            double dt = (now() - t0) / (double)n[impl] * 1e9;
            if (dt < ns[impl])
                ns[impl] = dt;
        }
}

static void ctx_init(ctx *c)
{
    c->arena = edist_arena_new(NULL);
    edist_etf_writer_init_dynamic(&c->w, 0, NULL, 0);
    edist_etf_writer_init_dynamic(&c->g, 0, NULL, 0);
    ei_x_new(&c->x);
    c->out_cap = 1 << 20;
    c->out = malloc(c->out_cap);
    c->s.sum = 0;
    strcpy(ei_pid_proto.node, NODE.name);
}

static int find(const char *name, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    fprintf(stderr, "unknown: %s\n", name);
    exit(2);
}

int main(int argc, char **argv)
{
    static item items[16];
    size_t n;
    ei_init();
    items_arena = edist_arena_new(NULL);
    make_items(items, &n);
    ctx c;
    ctx_init(&c);
    /* libei must produce the very same bytes, or the comparison is off. */
    for (size_t i = 0; i < n; i++) {
        run_once(&c, &items[i], IMPL_EI, OP_ENC);
        if (memcmp(c.x.buff, items[i].bytes, items[i].len) != 0) {
            fprintf(stderr, "libei encodes %s differently\n", items[i].name);
            return 1;
        }
    }
    /* And the gathering writer must describe exactly those bytes. */
    for (size_t i = 0; i < n; i++) {
        run_once(&c, &items[i], IMPL_GATHER, OP_ENC);
        uint8_t *flat = malloc(items[i].len);
        if (!flat || edist_etf_writer_flatten(&c.g, flat, items[i].len) < 0 ||
            memcmp(flat, items[i].bytes, items[i].len) != 0) {
            fprintf(stderr, "gather encodes %s differently\n", items[i].name);
            return 1;
        }
        free(flat);
    }
    if (argc == 3 && strcmp(argv[1], "--dump") == 0) {
        for (size_t i = 0; i < n; i++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s.bin", argv[2], items[i].name);
            FILE *f = fopen(path, "wb");
            if (!f ||
                fwrite(items[i].bytes, 1, items[i].len, f) != items[i].len)
                return 1;
            fclose(f);
        }
    } else if (argc == 6 && strcmp(argv[1], "--count") == 0) {
        static const char *const impls[] = {"edist", "tree", "ei", "gather"};
        static const char *const ops[] = {"dec", "enc"};
        size_t i;
        for (i = 0; i < n && strcmp(items[i].name, argv[2]) != 0; i++)
            ;
        if (i == n)
            return 2;
        bench_loop(&c, &items[i], find(argv[3], impls, 4),
                   find(argv[4], ops, 2), atol(argv[5]));
        return 0;
    }
    printf("%-16s %8s | %10s %10s %10s %6s %6s | %10s %10s %10s %6s %6s | "
           "%10s %6s\n",
           "item", "bytes", "dec edist", "dec tree", "dec ei", "x", "x tree",
           "enc edist", "enc tree", "enc ei", "x", "x tree", "enc gather", "x");
    for (size_t i = 0; i < n; i++) {
        double d[4], e[4];
        measure3(&c, &items[i], OP_DEC, d);
        measure3(&c, &items[i], OP_ENC, e);
        printf("%-16s %8zu | %10.1f %10.1f %10.1f %6.2f %6.2f | %10.1f %10.1f "
               "%10.1f %6.2f %6.2f | %10.1f %6.2f\n",
               items[i].name, items[i].len, d[0], d[1], d[2], d[2] / d[0],
               d[2] / d[1], e[0], e[1], e[2], e[2] / e[0], e[2] / e[1], e[3],
               e[2] / e[3]);
        printf("MBps %-11s %8s | %10.0f %10.0f %10.0f %6s %6s | %10.0f %10.0f "
               "%10.0f\n",
               items[i].name, "", items[i].len / d[0] * 1e3,
               items[i].len / d[1] * 1e3, items[i].len / d[2] * 1e3, "", "",
               items[i].len / e[0] * 1e3, items[i].len / e[1] * 1e3,
               items[i].len / e[2] * 1e3);
    }
    if (c.s.sum == 42)
        printf("\n");
    return 0;
}
