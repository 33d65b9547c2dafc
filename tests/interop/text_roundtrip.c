/*
 * text_roundtrip.c: the C side of tests/interop/test_text_erl.sh.
 *
 * Reads stdin line by line; every field is hex so that any text (UTF-8,
 * newlines of ~p output) fits on one line.  Modes:
 *
 *   text     line: HEX(~w text) HEX(~p text) HEX(~tp text) from io_lib
 *            out:  OK HEX(edist ~w) HEX(~p) HEX(~tw) HEX(~tp)  -- after
 *                  parsing all inputs and checking they give =:= terms
 *            or    ERR message
 *   cmp      line: HEX({A,B} in edist syntax)
 *            out:  <sign of compare(A,B)> <equal(A,B)> <sign of exact>
 *   sort     line: HEX([E1,...] in edist syntax)
 *            out:  the 0-based indices of the elements in sorted order
 *   parse    line: HEX(any text)
 *            out:  OK HEX(~w of the term) or ERR line:col message
 *
 * Options: --local NODE  (the node whose pids print as <0.I.S>),
 *          --pc-unicode  (print ~tp as under erl +pc unicode).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "edist/edist.h"
#include "edist/etf_text.h"

static size_t unhex(const char *s, size_t n, char *out)
{
    size_t k = 0;
    for (size_t i = 0; i + 1 < n; i += 2) {
        unsigned v;
        if (sscanf(s + i, "%2x", &v) != 1)
            break;
        out[k++] = (char)v;
    }
    return k;
}

static void puthex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        printf("%02x", (unsigned char)s[i]);
}

static int sign(int c)
{
    return c < 0 ? -1 : c > 0;
}

static const edist_term *g_elems;

static void msort(size_t *ix, size_t *tmp, size_t n)
{
    if (n < 2)
        return;
    size_t h = n / 2, i = 0, j = h, k = 0;
    msort(ix, tmp, h);
    msort(ix + h, tmp, n - h);
    while (i < h && j < n)
        tmp[k++] = edist_term_compare(&g_elems[ix[j]], &g_elems[ix[i]]) < 0
                       ? ix[j++]
                       : ix[i++];
    while (i < h)
        tmp[k++] = ix[i++];
    while (j < n)
        tmp[k++] = ix[j++];
    memcpy(ix, tmp, n * sizeof *ix);
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "text";
    edist_parse_opts po;
    edist_print_opts wo, pp;
    memset(&po, 0, sizeof po);
    memset(&wo, 0, sizeof wo);
    int pc_unicode = 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--local") == 0 && i + 1 < argc) {
            po.local_node.name = argv[i + 1];
            po.local_node.len = strlen(argv[i + 1]);
            i++;
        } else if (strcmp(argv[i], "--pc-unicode") == 0) {
            pc_unicode = 1;
        }
    }
    wo.local_node = po.local_node;
    pp = wo;
    pp.style = EDIST_TEXT_P;
    edist_print_opts tw = wo, tp = pp;
    tw.unicode = tp.unicode = 1;
    tw.printable_unicode = tp.printable_unicode = pc_unicode;
    size_t cap = 0;
    char *line = NULL, *a = NULL, *b = NULL;
    edist_arena *ar = edist_arena_new(NULL);
    ssize_t got;
    while ((got = getline(&line, &cap, stdin)) > 0) {
        edist_arena_reset(ar);
        free(a);
        free(b);
        a = malloc((size_t)got);
        b = malloc((size_t)got);
        if (!a || !b)
            return 2;
        size_t n = strcspn(line, "\r\n");
        char *sp = memchr(line, ' ', n);
        size_t n1 = sp ? (size_t)(sp - line) : n;
        size_t la = unhex(line, n1, a);
        edist_term t, t2;
        edist_text_error err;
        int rc = edist_term_parse(ar, a, la, &po, &t, &err);
        if (strcmp(mode, "parse") == 0) {
            char *w;
            size_t lw;
            if (rc < 0) {
                printf("ERR %d:%d %s\n", err.line, err.col, err.msg);
            } else if (edist_term_print_arena(ar, &t, &wo, &w, &lw) < 0) {
                printf("ERR print\n");
            } else {
                printf("OK ");
                puthex(w, lw);
                putchar('\n');
            }
            fflush(stdout);
            continue;
        }
        if (rc < 0) {
            printf("ERR parse %d:%d %s (%s)\n", err.line, err.col, err.msg,
                   edist_errname(rc));
            continue;
        }
        if (strcmp(mode, "text") == 0) {
            /* The other fields: io_lib's ~p and ~tp texts. */
            int bad = 0;
            while (sp && !bad) {
                char *f = sp + 1;
                char *next = memchr(f, ' ', (size_t)(line + n - f));
                size_t fl = next ? (size_t)(next - f) : (size_t)(line + n - f);
                size_t lb = unhex(f, fl, b);
                rc = edist_term_parse(ar, b, lb, &po, &t2, &err);
                if (rc < 0) {
                    printf("ERR parse-p %d:%d %s\n", err.line, err.col,
                           err.msg);
                    bad = 1;
                } else if (!edist_term_equal(&t, &t2)) {
                    printf("ERR ~w and ~p texts parse to different terms\n");
                    bad = 1;
                }
                sp = next;
            }
            if (bad)
                continue;
            char *w, *p, *xw, *xp;
            size_t lw, lp, lxw, lxp;
            if (edist_term_print_arena(ar, &t, &wo, &w, &lw) < 0 ||
                edist_term_print_arena(ar, &t, &pp, &p, &lp) < 0 ||
                edist_term_print_arena(ar, &t, &tw, &xw, &lxw) < 0 ||
                edist_term_print_arena(ar, &t, &tp, &xp, &lxp) < 0) {
                printf("ERR print\n");
                continue;
            }
            /* Our own output must parse back to the same term. */
            if (edist_term_parse(ar, p, lp, &po, &t2, &err) < 0 ||
                !edist_term_equal(&t, &t2) ||
                edist_term_parse(ar, xp, lxp, &po, &t2, &err) < 0 ||
                !edist_term_equal(&t, &t2)) {
                printf("ERR edist ~p/~tp text does not parse back\n");
                continue;
            }
            printf("OK ");
            puthex(w, lw);
            putchar(' ');
            puthex(p, lp);
            putchar(' ');
            puthex(xw, lxw);
            putchar(' ');
            puthex(xp, lxp);
            putchar('\n');
        } else if (strcmp(mode, "cmp") == 0) {
            if (t.type != EDIST_TERM_TUPLE || t.v.tuple.arity != 2) {
                printf("ERR not a pair\n");
                continue;
            }
            const edist_term *x = &t.v.tuple.elems[0], *y = x + 1;
            printf("%d %d %d\n", sign(edist_term_compare(x, y)),
                   edist_term_equal(x, y) ? 1 : 0,
                   sign(edist_term_compare_exact(x, y)));
        } else if (strcmp(mode, "sort") == 0) {
            size_t len = t.type == EDIST_TERM_LIST ? t.v.list.len : 0;
            size_t *ix = malloc((len + 1) * 2 * sizeof *ix);
            if (!ix)
                return 2;
            for (size_t i = 0; i < len; i++)
                ix[i] = i;
            g_elems = t.type == EDIST_TERM_LIST ? t.v.list.elems : NULL;
            msort(ix, ix + len, len);
            for (size_t i = 0; i < len; i++)
                printf(i ? " %zu" : "%zu", ix[i]);
            putchar('\n');
            free(ix);
        }
        fflush(stdout);
    }
    edist_arena_free(ar);
    free(line);
    free(a);
    free(b);
    return 0;
}
