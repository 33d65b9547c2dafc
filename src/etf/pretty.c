/*
 * pretty.c: io_lib:format("~p") line breaking, a port of OTP 25's
 * io_lib_pretty (print/6 without depth or character limits and without
 * records: print_length, cind and pp).
 *
 * First an intermediate tree records, for every container, the length in
 * characters of its one-line form (print_length).  Then cind tries the
 * indentations -1 and 4 for tagged tuples ({atom, ...}) and picks the
 * first that keeps the layout within half the line, and pp writes the
 * text: a term that fits in what is left of the line is written whole;
 * otherwise lists, tuples and maps put as many atomic elements per line as
 * fit and give every compound element its own line, aligned after the
 * opening bracket; map values that do not fit go under their key.  The
 * names and the column arithmetic below follow the Erlang code so that the
 * two can be compared clause by clause.
 */
#include <string.h>

#include "core/mem.h"
#include "edist/err.h"
#include "etf/text_int.h"

enum { K_LEAF, K_BIN, K_LIST, K_TUPLE, K_TAGGED, K_MAP, K_PAIR };

typedef struct pnode pnode;
struct pnode {
    int kind;
    long len;            /* characters of the one-line form */
    const edist_term *t; /* LEAF, BIN: the term; PAIR: unused */
    size_t n;            /* children */
    pnode *kids;
    int improper; /* LIST: the last child is a non-list tail */
};

typedef struct pp_ctx {
    text_out *o;
    const edist_print_opts *op;
    edist_arena *a;
    long ll; /* line length */
    long m;  /* io_lib_pretty's M: the whole term's length */
    int err;
} pp_ctx;

#define ATM(p)      ((p)->kind == K_LEAF)
#define ATM_PAIR(p) (ATM(&(p)->kids[0]) && ATM(&(p)->kids[1]))

/* Characters of the one-line form of t. */
static long one_line_len(pp_ctx *c, const edist_term *t)
{
    text_out cnt;
    memset(&cnt, 0, sizeof cnt);
    /* A leaf longer than the room left makes the whole text too long
     * (breaking lines only adds characters): stop counting there. */
    cnt.max = c->o->max - c->o->len;
    text_write(&cnt, t, c->op, 1);
    if (cnt.err && !c->err)
        c->err = cnt.err;
    return (long)cnt.chars;
}

static int build(pp_ctx *c, pnode *p, const edist_term *t);

static int build_kids(pp_ctx *c, pnode *p, size_t n, long base)
{
    p->n = n;
    p->kids = edist_arena_calloc(c->a, n, sizeof *p->kids);
    if (!p->kids)
        return EDIST_ENOMEM;
    (void)base;
    return 0;
}

static int build(pp_ctx *c, pnode *p, const edist_term *t)
{
    int rc;
    memset(p, 0, sizeof *p);
    p->t = t;
    p->kind = K_LEAF;
    switch (t->type) {
    case EDIST_TERM_LIST: {
        if (text_printable_list(t, c->op))
            break;
        size_t n = 0;
        const edist_term *x = t;
        for (; x->type == EDIST_TERM_LIST; x = x->v.list.tail)
            n += x->v.list.len;
        int improper = x->type != EDIST_TERM_NIL;
        if ((rc = build_kids(c, p, n + (size_t)improper, 0)) < 0)
            return rc;
        p->kind = K_LIST;
        p->improper = improper;
        size_t k = 0;
        for (x = t; x->type == EDIST_TERM_LIST; x = x->v.list.tail)
            for (size_t i = 0; i < x->v.list.len; i++)
                if ((rc = build(c, &p->kids[k++], &x->v.list.elems[i])) < 0)
                    return rc;
        if (improper && (rc = build(c, &p->kids[k++], x)) < 0)
            return rc;
        p->len = 2 + (long)p->n - 1;
        for (size_t i = 0; i < p->n; i++)
            p->len += p->kids[i].len;
        return 0;
    }
    case EDIST_TERM_TUPLE: {
        size_t n = t->v.tuple.arity;
        if (n == 0)
            break;
        if ((rc = build_kids(c, p, n, 0)) < 0)
            return rc;
        p->kind = n > 1 && t->v.tuple.elems[0].type == EDIST_TERM_ATOM
                      ? K_TAGGED
                      : K_TUPLE;
        p->len = 2 + (long)n - 1;
        for (size_t i = 0; i < n; i++) {
            if ((rc = build(c, &p->kids[i], &t->v.tuple.elems[i])) < 0)
                return rc;
            p->len += p->kids[i].len;
        }
        return 0;
    }
    case EDIST_TERM_MAP: {
        size_t n = t->v.map.size;
        if (n == 0)
            break;
        size_t *idx = edist_arena_calloc(c->a, n, sizeof *idx);
        if (!idx || text_map_order(t, idx, edist_mem_resolve(c->op->alloc)) < 0)
            return EDIST_ENOMEM;
        if ((rc = build_kids(c, p, n, 0)) < 0)
            return rc;
        p->kind = K_MAP;
        p->len = 3 + (long)n - 1;
        for (size_t i = 0; i < n; i++) {
            pnode *pr = &p->kids[i];
            pr->kind = K_PAIR;
            if ((rc = build_kids(c, pr, 2, 0)) < 0)
                return rc;
            if ((rc = build(c, &pr->kids[0], &t->v.map.keys[idx[i]])) < 0 ||
                (rc = build(c, &pr->kids[1], &t->v.map.values[idx[i]])) < 0)
                return rc;
            pr->len = pr->kids[0].len + 4 + pr->kids[1].len;
            p->len += pr->len;
        }
        return 0;
    }
    case EDIST_TERM_BINARY:
        if (t->v.bin.size == 0 ||
            text_printable_bin(t, c->op) != TEXT_BIN_BYTES)
            break;
        p->kind = K_BIN;
        break;
    default:
        break;
    }
    p->len = one_line_len(c, t);
    return c->err;
}

/* ------------------------------------------------------------ writing */

static void write_node(pp_ctx *c, const pnode *p)
{
    if (p->kind == K_PAIR) {
        write_node(c, &p->kids[0]);
        text_put(c->o, " => ", 4);
        write_node(c, &p->kids[1]);
        return;
    }
    text_write(c->o, p->t, c->op, 1);
}

static void newline(pp_ctx *c, long ind)
{
    text_putc(c->o, '\n');
    if (ind > 0)
        text_spaces(c->o, (size_t)ind);
}

/* Number of list elements (children minus an improper tail). */
static size_t n_elems(const pnode *p)
{
    return p->n - (size_t)p->improper;
}

/* last_depth/2 for the rest after element i of a list-like node. */
static long last_depth(const pnode *p, size_t i, long ld)
{
    return i + 1 < n_elems(p) ? 0 : ld + 1;
}

static int fits_tail(long elen, long col, long ll, long w, long m, long ld1)
{
    if (ld1 == 0)
        return elen + 1 < ll - col && w + elen + 1 <= m;
    return elen < ll - col - ld1 && w + elen + ld1 <= m;
}

static void pp(pp_ctx *c, const pnode *p, long col, long tind, long ind,
               long ld, long w);

static long pp_element(pp_ctx *c, const pnode *e, long col, long tind, long ind,
                       long ld, long w)
{
    if (e->len < c->ll - col - ld && e->len + w + ld <= c->m && ATM(e)) {
        write_node(c, e);
        return e->len;
    }
    pp(c, e, col, tind, ind, ld, w);
    return c->ll;
}

/* pp_tail over the children of p from index i. */
static void pp_tail(pp_ctx *c, const pnode *p, size_t i, long col0, long col,
                    long tind, long ind, long ld, char sep, long w)
{
    for (; i < p->n && !c->o->err; i++) {
        const pnode *e = &p->kids[i];
        if (i == n_elems(p)) { /* the improper tail */
            if (e->len + 1 < c->ll - col - (ld + 1) &&
                e->len + 1 + w + (ld + 1) <= c->m && ATM(e)) {
                text_putc(c->o, sep);
                write_node(c, e);
            } else {
                text_putc(c->o, sep);
                newline(c, ind);
                pp(c, e, col0, tind, ind, ld + 1, 0);
            }
            return;
        }
        long ld1 = last_depth(p, i, ld), elen = 1 + e->len;
        if (ATM(e) && fits_tail(elen, col, c->ll, w, c->m, ld1)) {
            text_putc(c->o, ',');
            write_node(c, e);
            col += elen;
            w += elen;
        } else {
            text_putc(c->o, ',');
            newline(c, ind);
            long we = pp_element(c, e, col0, tind, ind, ld1, 0);
            col = col0 + we;
            w = we;
        }
    }
}

/* pp_list over the children of p from index i. */
static void pp_list(pp_ctx *c, const pnode *p, size_t i, long col0, long tind,
                    long ind, long ld, char sep, long w)
{
    long we =
        pp_element(c, &p->kids[i], col0, tind, ind, last_depth(p, i, ld), w);
    pp_tail(c, p, i + 1, col0, col0 + we, tind, ind, ld, sep, w + we);
}

static void pp_tag_tuple(pp_ctx *c, const pnode *p, long col, long tind,
                         long ind, long ld, long w)
{
    const pnode *tag = &p->kids[0];
    long tagind = tag->len + 2, tcol = col + tagind;
    write_node(c, tag);
    if (tind > 0 && tagind > tind) {
        pp_tail(c, p, 1, col + tind, tcol, tind, ind + tind, ld, ',',
                w + tag->len);
    } else {
        text_putc(c->o, ',');
        pp_list(c, p, 1, tcol, tind, ind + tagind, ld, ',', w + tag->len + 1);
    }
}

static long map_value_indent(long tind)
{
    return tind > 0 ? tind : 4;
}

static long pp_pair(pp_ctx *c, const pnode *pr, long col, long tind, long ind,
                    long ld, long w)
{
    if (pr->len < c->ll - col - ld && pr->len + w + ld <= c->m) {
        write_node(c, pr);
        return ATM_PAIR(pr) ? pr->len : c->ll;
    }
    long i = map_value_indent(tind);
    pp(c, &pr->kids[0], col, tind, ind, ld, w);
    text_put(c->o, " =>", 3);
    newline(c, ind + i);
    pp(c, &pr->kids[1], col + i, tind, ind + i, ld, 0);
    return c->ll;
}

static void pp_map(pp_ctx *c, const pnode *p, long col, long tind, long ind,
                   long ld, long w)
{
    long pw = pp_pair(c, &p->kids[0], col, tind, ind, last_depth(p, 0, ld), w);
    long cl = col + pw;
    w = pw;
    for (size_t i = 1; i < p->n && !c->o->err; i++) {
        const pnode *pr = &p->kids[i];
        long ld1 = last_depth(p, i, ld), elen = 1 + pr->len;
        text_putc(c->o, ',');
        if (ATM_PAIR(pr) && fits_tail(elen, cl, c->ll, w, c->m, ld1)) {
            write_node(c, pr);
            cl += elen;
            w += elen;
        } else {
            newline(c, ind);
            pw = pp_pair(c, pr, col, tind, ind, ld1, 0);
            cl = col + pw;
            w = pw;
        }
    }
}

static void pp_binary(pp_ctx *c, const pnode *p, long col, long ind, long ld,
                      long w)
{
    long lim = c->ll - col < c->m - 4 - w ? c->ll - col : c->m - 4 - w;
    long n0 = lim - ld > 8 ? lim - ld : 8, n = n0;
    char seg[24];
    size_t k, count = p->t->v.bin.size;
    text_put(c->o, "<<", 2);
    for (size_t i = 0; (k = text_bin_segment(p->t, i, seg)) > 0; i++) {
        if (i + 1 < count) {
            long len = (long)k + 1;
            if (n - len < 0) {
                newline(c, ind);
                n = n0 - len;
            } else {
                n -= len;
            }
            text_put(c->o, seg, k);
            text_putc(c->o, ',');
        } else {
            if ((long)k > n)
                newline(c, ind);
            text_put(c->o, seg, k);
        }
    }
    text_put(c->o, ">>", 2);
}

static void pp(pp_ctx *c, const pnode *p, long col, long tind, long ind,
               long ld, long w)
{
    if (p->len < c->ll - col - ld && p->len + w + ld <= c->m) {
        write_node(c, p);
        return;
    }
    switch (p->kind) {
    case K_LIST:
        text_putc(c->o, '[');
        pp_list(c, p, 0, col + 1, tind, ind + 1, ld, '|', w + 1);
        text_putc(c->o, ']');
        return;
    case K_TAGGED:
        text_putc(c->o, '{');
        pp_tag_tuple(c, p, col, tind, ind, ld, w + 1);
        text_putc(c->o, '}');
        return;
    case K_TUPLE:
        text_putc(c->o, '{');
        pp_list(c, p, 0, col + 1, tind, ind + 1, ld, ',', w + 1);
        text_putc(c->o, '}');
        return;
    case K_MAP:
        text_put(c->o, "#{", 2);
        pp_map(c, p, col + 2, tind, ind + 2, ld, w + 1);
        text_putc(c->o, '}');
        return;
    case K_BIN:
        pp_binary(c, p, col + 2, ind + 2, ld, w);
        return;
    default:
        write_node(c, p);
        return;
    }
}

/* ----------------------------------------------- choosing indentation */

/* cind and friends return -1 where the Erlang code throws no_good. */
static int cind(pp_ctx *c, const pnode *p, long col, long ind, long ld, long w);

static long cind_element(pp_ctx *c, const pnode *e, long col, long ind, long ld,
                         long w)
{
    if (e->len < c->ll - col - ld && e->len + w + ld <= c->m && ATM(e))
        return e->len;
    if (cind(c, e, col, ind, ld, w) < 0)
        return -1;
    return c->ll;
}

static int cind_tail(pp_ctx *c, const pnode *p, size_t i, long col0, long col,
                     long ind, long ld, long w)
{
    for (; i < p->n; i++) {
        const pnode *e = &p->kids[i];
        if (i == n_elems(p)) {
            if (e->len + 1 < c->ll - col - (ld + 1) &&
                e->len + 1 + w + (ld + 1) <= c->m && ATM(e))
                return 0;
            return cind(c, e, col, ind, ld + 1, 0);
        }
        long ld1 = last_depth(p, i, ld), elen = 1 + e->len;
        if (ATM(e) && fits_tail(elen, col, c->ll, w, c->m, ld1)) {
            col += elen;
            w += elen;
        } else {
            long we = cind_element(c, e, col0, ind, ld1, 0);
            if (we < 0)
                return -1;
            col = col0 + we;
            w = we;
        }
    }
    return 0;
}

static int cind_list(pp_ctx *c, const pnode *p, size_t i, long col0, long ind,
                     long ld, long w)
{
    long we = cind_element(c, &p->kids[i], col0, ind, last_depth(p, i, ld), w);
    if (we < 0)
        return -1;
    return cind_tail(c, p, i + 1, col0, col0 + we, ind, ld, w + we);
}

static int cind_tag_tuple(pp_ctx *c, const pnode *p, long col, long ind,
                          long ld, long w)
{
    long tlen = p->kids[0].len, tagind = tlen + 2, tcol = col + tagind;
    if (ind > 0 && tagind > ind) {
        long col1 = col + ind;
        if (c->m + col1 <= c->ll || col1 <= c->ll / 2)
            return cind_tail(c, p, 1, col1, tcol, ind, ld, w + tlen);
        return -1;
    }
    if (c->m + tcol < c->ll || tcol < c->ll / 2)
        return cind_list(c, p, 1, tcol, ind, ld, w + tlen + 1);
    return -1;
}

static long cind_pair(pp_ctx *c, const pnode *pr, long col, long ind, long ld,
                      long w)
{
    if (pr->len < c->ll - col - ld && pr->len + w + ld <= c->m)
        return ATM_PAIR(pr) ? pr->len : c->ll;
    if (cind(c, &pr->kids[0], col, ind, ld, w) < 0 ||
        cind(c, &pr->kids[1], col + map_value_indent(ind), ind, ld, 0) < 0)
        return -1;
    return c->ll;
}

static int cind_map(pp_ctx *c, const pnode *p, long col, long ind, long ld,
                    long w)
{
    long pw = cind_pair(c, &p->kids[0], col, ind, last_depth(p, 0, ld), w);
    if (pw < 0)
        return -1;
    long cl = col + pw;
    w += pw;
    for (size_t i = 1; i < p->n; i++) {
        const pnode *pr = &p->kids[i];
        long ld1 = last_depth(p, i, ld), elen = 1 + pr->len;
        if (ATM_PAIR(pr) && fits_tail(elen, cl, c->ll, w, c->m, ld1)) {
            cl += elen;
            w += elen;
        } else {
            pw = cind_pair(c, pr, col, ind, ld1, 0);
            if (pw < 0)
                return -1;
            cl = col + pw;
            w = pw;
        }
    }
    return 0;
}

static int cind(pp_ctx *c, const pnode *p, long col, long ind, long ld, long w)
{
    if (p->len < c->ll - col - ld && p->len + w + ld <= c->m)
        return 0;
    switch (p->kind) {
    case K_LIST:
    case K_TUPLE:
        return cind_list(c, p, 0, col + 1, ind, ld, w + 1);
    case K_TAGGED:
        return cind_tag_tuple(c, p, col, ind, ld, w + 1);
    case K_MAP:
        return cind_map(c, p, col + 2, ind, ld, w + 2);
    default:
        return 0;
    }
}

/* ---------------------------------------------------------------- entry */

int text_pretty(text_out *o, const edist_term *t, const edist_print_opts *op)
{
    long ll = op->line_length ? op->line_length : 80;
    long col = op->column > 0 ? op->column : 1;
    int container = t->type == EDIST_TERM_LIST || t->type == EDIST_TERM_TUPLE ||
                    t->type == EDIST_TERM_MAP || t->type == EDIST_TERM_BINARY;
    if (ll < 0 || !container) {
        text_write(o, t, op, 1);
        return o->err;
    }
    edist_arena_opts ao = {edist_mem_resolve(op->alloc), 0, 0};
    edist_arena *a = edist_arena_new(&ao);
    if (!a)
        return o->err = EDIST_ENOMEM;
    pp_ctx c = {o, op, a, ll, 0, 0};
    pnode root;
    int rc = build(&c, &root, t);
    if (rc < 0) {
        edist_arena_free(a);
        if (!o->err)
            o->err = rc;
        return o->err;
    }
    c.m = root.len;
    if (root.len < ll - col) {
        write_node(&c, &root);
    } else {
        long tind = 1;
        if (cind(&c, &root, col, -1, 0, 0) == 0)
            tind = -1;
        else if (cind(&c, &root, col, 4, 0, 0) == 0)
            tind = 4;
        pp(&c, &root, col, tind, col - 1, 0, 0);
    }
    edist_arena_free(a);
    return o->err;
}
