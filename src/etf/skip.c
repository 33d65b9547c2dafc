/*
 * skip.c: looking ahead (peek_type) and skipping whole terms.
 *
 * Skipping needs no stack: it counts the items still due (a container adds
 * its elements), so a term of any depth is skipped in constant memory,
 * with the same checks the reader makes (tags, lengths, atom UTF-8).  Funs
 * are the exception: their Size field must match their content, which is
 * checked by skipping the content recursively, to a bounded nesting.
 * Layouts: see reader.c.
 */
#include <string.h>

#include "core/wire.h"
#include "edist/err.h"
#include "etf/etf_int.h"

/* Nested funs are skipped recursively (their size field must match their
 * content); beyond this nesting the input is refused rather than risking
 * the stack.  No real program nests closures this deep. */
#define ETF_MAX_FUN_NESTING 64

int edist_etf_peek_type(const edist_etf_reader *r)
{
    if (r->p >= r->end)
        return EDIST_EAGAIN;
    switch (*r->p) {
    case EDIST_ETF_SMALL_INTEGER:
    case EDIST_ETF_INTEGER:
        return EDIST_TERM_INT;
    case EDIST_ETF_SMALL_BIG:
    case EDIST_ETF_LARGE_BIG: {
        int neg;
        const uint8_t *d;
        size_t n;
        uint64_t m;
        long rc = etf_big_at(r->p, r->end, &neg, &d, &n);
        if (rc < 0)
            return (int)rc;
        if (n < 8)
            return EDIST_TERM_INT; /* the common case: no digit loop */
        if (etf_big_mag64(d, n, r->end, &m) &&
            m <= (uint64_t)INT64_MAX + (neg ? 1u : 0u))
            return EDIST_TERM_INT;
        return EDIST_TERM_BIGINT;
    }
    case EDIST_ETF_NEW_FLOAT:
    case EDIST_ETF_FLOAT:
        return EDIST_TERM_FLOAT;
    case EDIST_ETF_ATOM:
    case EDIST_ETF_SMALL_ATOM:
    case EDIST_ETF_ATOM_UTF8:
    case EDIST_ETF_SMALL_ATOM_UTF8:
    case EDIST_ETF_ATOM_CACHE_REF:
        return EDIST_TERM_ATOM;
    case EDIST_ETF_NEWER_REFERENCE:
    case EDIST_ETF_NEW_REFERENCE:
    case EDIST_ETF_REFERENCE:
        return EDIST_TERM_REF;
    case EDIST_ETF_NEW_FUN:
        return EDIST_TERM_FUN;
    case EDIST_ETF_EXPORT:
        return EDIST_TERM_EXPORT;
    case EDIST_ETF_NEW_PORT:
    case EDIST_ETF_V4_PORT:
    case EDIST_ETF_PORT:
        return EDIST_TERM_PORT;
    case EDIST_ETF_NEW_PID:
    case EDIST_ETF_PID:
        return EDIST_TERM_PID;
    case EDIST_ETF_SMALL_TUPLE:
    case EDIST_ETF_LARGE_TUPLE:
        return EDIST_TERM_TUPLE;
    case EDIST_ETF_MAP:
        return EDIST_TERM_MAP;
    case EDIST_ETF_NIL:
        return EDIST_TERM_NIL;
    case EDIST_ETF_STRING:
    case EDIST_ETF_LIST:
        return EDIST_TERM_LIST;
    case EDIST_ETF_BINARY:
    case EDIST_ETF_BIT_BINARY:
        return EDIST_TERM_BINARY;
    default:
        return EDIST_ETAG;
    }
}

static int skip_impl(edist_etf_reader *r, size_t max_terms, size_t *terms,
                     int *saw_cache_ref, int fun_depth);

/* Checks a NEW_FUN_EXT body at r (after the tag) and moves past it. */
static int skip_fun(edist_etf_reader *r, size_t max_terms, size_t *terms,
                    int *saw_cache_ref, int fun_depth)
{
    size_t left = (size_t)(r->end - r->p);
    if (left < 4)
        return EDIST_EAGAIN;
    size_t size = edist_get32(r->p);
    if (size > left)
        return EDIST_EAGAIN;
    if (size < 4 + 1 + 16 + 4 + 4)
        return EDIST_EBADMSG;
    if (fun_depth >= ETF_MAX_FUN_NESTING)
        return EDIST_EDEPTH;
    edist_etf_reader sub = *r;
    sub.end = r->p + size;
    uint32_t num_free = edist_get32(sub.p + 25);
    sub.p += 29;
    edist_atom module;
    edist_term pid;
    int64_t old_index, old_uniq;
    int rc;
    if (sub.p < sub.end && *sub.p == EDIST_ETF_ATOM_CACHE_REF)
        *saw_cache_ref = 1;
    /* OTP requires OldIndex and OldUniq to be small integers. */
    if ((rc = edist_etf_read_atom(&sub, &module)) < 0 ||
        (rc = etf_read_small_int(&sub, &old_index)) < 0 ||
        (rc = etf_read_small_int(&sub, &old_uniq)) < 0)
        return rc == EDIST_EAGAIN || rc == EDIST_ETYPE ? EDIST_EBADMSG : rc;
    if (sub.p < sub.end && sub.p + 1 < sub.end &&
        sub.p[1] == EDIST_ETF_ATOM_CACHE_REF)
        *saw_cache_ref = 1;
    if ((rc = edist_etf_read_pid(&sub, &pid)) < 0)
        return rc == EDIST_EAGAIN || rc == EDIST_ETYPE ? EDIST_EBADMSG : rc;
    if (num_free > (size_t)(sub.end - sub.p))
        return EDIST_EBADMSG;
    for (uint32_t i = 0; i < num_free; i++) {
        rc = skip_impl(&sub, max_terms, terms, saw_cache_ref, fun_depth + 1);
        if (rc < 0)
            return rc == EDIST_EAGAIN ? EDIST_EBADMSG : rc;
    }
    if (sub.p != sub.end)
        return EDIST_EBADMSG;
    r->p = sub.end;
    return 0;
}

static int skip_impl(edist_etf_reader *r, size_t max_terms, size_t *terms,
                     int *saw_cache_ref, int fun_depth)
{
    const uint8_t *save = r->p;
    size_t pending = 1, count = *terms;
    int rc = 0;
    if (!max_terms)
        max_terms = EDIST_ETF_DEFAULT_MAX_TERMS;
    while (pending) {
        pending--;
        if (++count > max_terms) {
            rc = EDIST_ETERMS;
            goto fail;
        }
        const uint8_t *p = r->p;
        size_t left = (size_t)(r->end - p), n;
        if (!left) {
            rc = EDIST_EAGAIN;
            goto fail;
        }
        switch (*p) {
        case EDIST_ETF_SMALL_INTEGER:
            if (left < 2)
                goto eagain;
            r->p += 2;
            break;
        case EDIST_ETF_INTEGER:
            if (left < 5)
                goto eagain;
            r->p += 5;
            break;
        case EDIST_ETF_SMALL_BIG:
        case EDIST_ETF_LARGE_BIG: {
            int neg;
            const uint8_t *d;
            long len = etf_big_at(p, r->end, &neg, &d, &n);
            if (len < 0) {
                rc = (int)len;
                goto fail;
            }
            r->p += len;
            break;
        }
        case EDIST_ETF_NEW_FLOAT:
        case EDIST_ETF_FLOAT: {
            double d;
            if ((rc = edist_etf_read_double(r, &d)) < 0)
                goto fail;
            break;
        }
        case EDIST_ETF_ATOM_CACHE_REF:
            *saw_cache_ref = 1;
            /* fall through */
        case EDIST_ETF_ATOM:
        case EDIST_ETF_SMALL_ATOM:
        case EDIST_ETF_ATOM_UTF8:
        case EDIST_ETF_SMALL_ATOM_UTF8: {
            edist_atom a;
            if ((rc = edist_etf_read_atom(r, &a)) < 0)
                goto fail;
            break;
        }
        case EDIST_ETF_SMALL_TUPLE:
        case EDIST_ETF_LARGE_TUPLE:
            if ((rc = edist_etf_read_tuple_header(r, &n)) < 0)
                goto fail;
            pending += n;
            break;
        case EDIST_ETF_MAP:
            if ((rc = edist_etf_read_map_header(r, &n)) < 0)
                goto fail;
            pending += 2 * n;
            break;
        case EDIST_ETF_NIL:
            r->p++;
            break;
        case EDIST_ETF_LIST:
            /* Not read_list_header: OTP accepts LIST_EXT of 0 elements
             * (the term is then its tail). */
            if (left < 5)
                goto eagain;
            n = edist_get32(p + 1);
            if (n >= left - 5)
                goto eagain;
            r->p += 5;
            pending += n + 1;
            break;
        case EDIST_ETF_STRING: {
            const uint8_t *s;
            if ((rc = edist_etf_read_string(r, &s, &n)) < 0)
                goto fail;
            count += n; /* the elements and the [] tail, as in a tree */
            if (count > max_terms) {
                rc = EDIST_ETERMS;
                goto fail;
            }
            break;
        }
        case EDIST_ETF_BINARY:
        case EDIST_ETF_BIT_BINARY: {
            const uint8_t *d;
            uint8_t bits;
            if ((rc = edist_etf_read_bitstring(r, &d, &n, &bits)) < 0)
                goto fail;
            break;
        }
        case EDIST_ETF_NEW_PID:
        case EDIST_ETF_PID:
        case EDIST_ETF_NEW_PORT:
        case EDIST_ETF_V4_PORT:
        case EDIST_ETF_PORT:
        case EDIST_ETF_NEWER_REFERENCE:
        case EDIST_ETF_NEW_REFERENCE:
        case EDIST_ETF_REFERENCE: {
            edist_term t;
            int ty = edist_etf_peek_type(r);
            /* The node atom follows the tag (and a length for refs). */
            size_t at =
                *p == EDIST_ETF_NEWER_REFERENCE || *p == EDIST_ETF_NEW_REFERENCE
                    ? 3
                    : 1;
            if (left > at && p[at] == EDIST_ETF_ATOM_CACHE_REF)
                *saw_cache_ref = 1;
            rc = ty == EDIST_TERM_PID    ? edist_etf_read_pid(r, &t)
                 : ty == EDIST_TERM_PORT ? edist_etf_read_port(r, &t)
                                         : edist_etf_read_ref(r, &t);
            if (rc < 0)
                goto fail;
            break;
        }
        case EDIST_ETF_EXPORT: {
            edist_atom m, f;
            r->p++;
            if (r->p < r->end && *r->p == EDIST_ETF_ATOM_CACHE_REF)
                *saw_cache_ref = 1;
            if ((rc = edist_etf_read_atom(r, &m)) < 0)
                goto fail_export;
            if (r->p < r->end && *r->p == EDIST_ETF_ATOM_CACHE_REF)
                *saw_cache_ref = 1;
            if ((rc = edist_etf_read_atom(r, &f)) < 0)
                goto fail_export;
            if ((rc = etf_export_arity(r, &n)) < 0)
                goto fail;
            break;
        fail_export:
            if (rc == EDIST_ETYPE)
                rc = EDIST_EBADMSG;
            goto fail;
        }
        case EDIST_ETF_NEW_FUN:
            r->p++;
            *terms = count;
            rc = skip_fun(r, max_terms, terms, saw_cache_ref, fun_depth);
            if (rc < 0)
                goto fail;
            count = *terms;
            break;
        default:
            rc = EDIST_ETAG;
            goto fail;
        }
    }
    *terms = count;
    return 0;
eagain:
    rc = EDIST_EAGAIN;
fail:
    r->p = save;
    return rc;
}

int etf_skip_terms(edist_etf_reader *r, size_t max_terms, size_t *terms,
                   int *saw_cache_ref)
{
    return skip_impl(r, max_terms, terms, saw_cache_ref, 0);
}

int edist_etf_skip(edist_etf_reader *r, size_t max_terms)
{
    size_t terms = 0;
    int saw = 0;
    return skip_impl(r, max_terms, &terms, &saw, 0);
}

int edist_etf_read_raw(edist_etf_reader *r, const uint8_t **raw, size_t *len)
{
    const uint8_t *start = r->p;
    int rc = edist_etf_skip(r, 0);
    if (rc < 0)
        return rc;
    *raw = start;
    *len = (size_t)(r->p - start);
    return 0;
}
