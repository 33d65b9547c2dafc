/*
 * edist/etf_text.h: Erlang term syntax, printed the way io_lib prints it
 * and parsed the way erl_scan/erl_parse read it.
 *
 * Printing follows OTP 25's io_lib:format("~w") and "~p" byte for byte
 * (the text is the UTF-8 encoding of io_lib's character list), with these
 * documented differences (see docs/etf-text.md):
 *  - maps always print their keys in term order (exact order, integers
 *    before floats); BEAM does the same for maps of up to 32 keys, but
 *    prints larger maps in its internal hash order, which edist cannot
 *    reproduce;
 *  - pids, ports and references of the node named in opts->local_node
 *    print exactly as that node's erl prints them (<0.85.0>,
 *    #Port<0.7>, #Ref<0.1.2.3>); those of any other node print as
 *    <node@host/Creation.Id.Serial>-style forms (#Pid<...>, #Port<...>,
 *    #Ref<...>) because erl's node index is local to one VM;
 *  - local funs print as erl does (#Fun<Module.OldIndex.OldUniq>).
 *
 * Parsing reads one term: integers of any size and base (16#ff, 2#1010,
 * 1_000, $a, $\n), floats, atoms (plain and quoted), strings, binaries with
 * integer, string, /utf8 and sized segments, lists (also improper), tuples,
 * maps, `fun M:F/A`, and the pid/port/ref forms the printer writes.  The
 * result goes into an arena (see edist/term.h).
 *
 * Threading: all functions are reentrant; they touch only their arguments.
 */
#ifndef EDIST_ETF_TEXT_H
#define EDIST_ETF_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "edist/export.h"
#include "edist/term.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum edist_text_style {
    EDIST_TEXT_W = 0, /* io_lib:format("~w"): one line, lists as lists */
    EDIST_TEXT_P = 1  /* io_lib:format("~p"): strings, line breaking */
} edist_text_style;

typedef struct edist_print_opts {
    edist_text_style style;
    /* ~p only: line length (io_lib's default 80 when 0); a negative value
     * never breaks lines. */
    int line_length;
    /* ~p only: column where the term starts, 1-based (1 when 0), as
     * io_lib_pretty's Col. */
    int column;
    /* Cap on the full output in bytes; 0 means 64 MiB.  Past it the
     * printers return EDIST_ETOOBIG. */
    size_t max_output;
    /* The node whose pids, ports and refs print in erl's local form
     * (<0.Id.Serial>).  Borrowed; len 0 means none. */
    edist_atom local_node;
    /* When non-zero, the local form is used only for this creation. */
    uint32_t local_creation;
    /* Non-zero: io_lib's "t" modifier, ~tw / ~tp: atoms and strings keep
     * characters above 255 instead of \x{...} escapes, and ~tp prints a
     * binary of UTF-8 text as <<"...">> or <<"..."/utf8>>. */
    int unicode;
    /* With unicode: the printable range of `erl +pc unicode` (default
     * latin1), so that ~tp prints lists of any printable code points as
     * strings. */
    int printable_unicode;
    /* Allocator for scratch memory (bignum digits, map key order, the ~p
     * layout tree), freed before returning; NULL means the default.
     * Borrowed. */
    const edist_allocator *alloc;
} edist_print_opts;

/*
 * Prints t into buf[0..cap), snprintf-style: writes at most cap - 1 bytes
 * and a terminating NUL (when cap > 0), and stores in *len the length the
 * complete text needs (without the NUL), so that *len >= cap means
 * truncation.  opts may be NULL (~w, defaults).  buf may be NULL when cap
 * is 0 (a size query).
 * Returns 0, EDIST_ETOOBIG (text longer than the cap; *len is then the
 * cap), EDIST_ENOMEM (~p needs a little scratch memory) or EDIST_EINVAL
 * (NULL t or len, or a malformed term such as an out-of-range type).
 */
EDIST_EXTERN int edist_term_print(const edist_term *t,
                                  const edist_print_opts *opts, char *buf,
                                  size_t cap, size_t *len);

/*
 * Prints t into memory from arena a: *out receives a NUL-terminated string
 * owned by the arena, *len (may be NULL) its length.  Returns 0,
 * EDIST_ETOOBIG, EDIST_ENOMEM or EDIST_EINVAL as edist_term_print().
 */
EDIST_EXTERN int edist_term_print_arena(edist_arena *a, const edist_term *t,
                                        const edist_print_opts *opts,
                                        char **out, size_t *len);

typedef struct edist_parse_opts {
    /* Nesting depth cap (containers inside containers); 0 means 1000. */
    size_t max_depth;
    /* Cap on the number of terms built; 0 means 1 << 24. */
    size_t max_terms;
    /* Cap on the input length in bytes; 0 means 64 MiB. */
    size_t max_input;
    /* The node <0.Id.Serial>, #Port<0.N> and #Ref<0.A.B.C> refer to
     * (borrowed; copied into the arena).  len 0: those forms are errors. */
    edist_atom local_node;
    uint32_t local_creation;
    /* Allocator for scratch memory (the stack of pending elements, binary
     * segments), freed before returning; NULL means the default.  The
     * term itself lives in the arena.  Borrowed. */
    const edist_allocator *alloc;
} edist_parse_opts;

/* Where and why parsing failed.  line and col are 1-based; col counts
 * bytes from the start of the line. */
typedef struct edist_text_error {
    int line;
    int col;
    char msg[128];
} edist_text_error;

/*
 * Parses one term from text[0..len) into arena a.  Leading and trailing
 * white space and %-comments are skipped; a final "." is optional.
 * Anything else after the term is an error.  opts may be NULL (defaults);
 * err may be NULL.  On success fills *out (owned by the arena) and
 * returns 0.  Errors:
 *   EDIST_ESYNTAX   the text is not a term; err says where and why;
 *   EDIST_EDEPTH    nesting deeper than max_depth;
 *   EDIST_ETERMS    more than max_terms terms;
 *   EDIST_ETOOBIG   input longer than max_input, or an integer or
 *                   binary past internal limits;
 *   EDIST_EATOMLEN  an atom over 255 characters;
 *   EDIST_EUTF8     the text is not valid UTF-8 where characters are
 *                   needed (strings, quoted atoms, $c literals);
 *   EDIST_ENOMEM    the arena could not allocate;
 *   EDIST_EINVAL    NULL a, out, or text with len > 0.
 * On error err (if given) is filled for every code, *out is untouched
 * and partial allocations stay in the arena.
 */
EDIST_EXTERN int edist_term_parse(edist_arena *a, const char *text, size_t len,
                                  const edist_parse_opts *opts, edist_term *out,
                                  edist_text_error *err);

#ifdef __cplusplus
}
#endif
#endif
