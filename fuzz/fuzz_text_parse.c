/*
 * fuzz_text_parse.c: libFuzzer target for the Erlang term syntax parser.
 *
 * Any input may be rejected, but none may crash, leak or hang.  Whatever
 * parses must round-trip: print ~w, parse that, print again: the two texts
 * are identical and the terms =:=; the ~p text parses back to a =:= term
 * too; and the term compares equal to itself in both orders.  Terms
 * whose text passes 1 MiB (a short <<0:99999999>> does) are only printed:
 * their round trip would test nothing new and take seconds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edist/edist.h"
#include "edist/etf_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
    if (!ok)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    edist_arena_opts ao = {.limit = (size_t)256 << 20};
    edist_arena *a = edist_arena_new(&ao);
    if (!a)
        return 0;
    edist_parse_opts po;
    memset(&po, 0, sizeof po);
    po.max_depth = 200;
    po.max_terms = 200000;
    po.local_node = edist_mk_atom("fuzz@host", 9).v.atom;
    po.local_creation = 1;
    edist_print_opts wo;
    memset(&wo, 0, sizeof wo);
    wo.local_node = po.local_node;
    wo.local_creation = 1;
    wo.max_output = (size_t)1 << 20;
    edist_print_opts pp = wo;
    pp.max_output = (size_t)4 << 20;
    pp.style = EDIST_TEXT_P;

    edist_term t, t2, t3;
    edist_text_error err;
    if (edist_term_parse(a, (const char *)data, size, &po, &t, &err) == 0) {
        char *w1, *w2, *p;
        size_t l1, l2, lp;
        int rc = edist_term_print_arena(a, &t, &wo, &w1, &l1);
        check(rc == 0 || rc == EDIST_ETOOBIG);
        if (rc == EDIST_ETOOBIG) {
            edist_arena_free(a);
            return 0;
        }
        po.max_terms = 0; /* the text of a binary holds a term per byte */
        check(edist_term_parse(a, w1, l1, &po, &t2, &err) == 0);
        check(edist_term_print_arena(a, &t2, &wo, &w2, &l2) == 0);
        check(l1 == l2 && memcmp(w1, w2, l1) == 0);
        check(edist_term_equal(&t, &t2));
        /* ~p, then ~tp with the Unicode range and narrow lines: line
         * breaks make the text longer than ~w, possibly past the cap. */
        for (int round = 0; round < 2; round++) {
            if (round) {
                pp.unicode = pp.printable_unicode = 1;
                pp.line_length = 20;
            }
            rc = edist_term_print_arena(a, &t, &pp, &p, &lp);
            check(rc == 0 || rc == EDIST_ETOOBIG);
            if (rc == 0) {
                check(edist_term_parse(a, p, lp, &po, &t3, &err) == 0);
                check(edist_term_equal(&t, &t3));
            }
        }
        check(edist_term_compare(&t, &t2) == 0);
        check(edist_term_compare_exact(&t3, &t) == 0);
    } else {
        check(err.line >= 1 && err.col >= 1 && err.msg[0] != '\0');
    }
    edist_arena_free(a);
    return 0;
}
