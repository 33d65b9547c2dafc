/*
 * parse.c: Erlang term syntax into the arena term tree, accepting what
 * erl_parse:parse_term/1 accepts for literal terms, plus the pid, port
 * and reference forms edist's printer writes.
 *
 *   term   := number | '-' number | '+' number | atom | string+
 *           | '[' ']' | '[' term (',' term)* ('|' term)? ']'
 *           | '{' '}' | '{' term (',' term)* '}'
 *           | '#{' '}' | '#{' term '=>' term (',' term '=>' term)* '}'
 *           | '<<' segments? '>>'                   (see parse_bin.c)
 *           | 'fun' atom ':' atom '/' integer | '(' term ')'
 *           | '<0.' int '.' int '>'                 (local node's pid)
 *           | '#Pid<' node '/' creation '.' int '.' int '>'
 *           | '#Port<0.' int '>' | '#Port<' node '/' creation '.' int '>'
 *           | '#Ref<0' ('.' int){1,5} '>'
 *           | '#Ref<' node '/' creation ('.' int){1,5} '>'
 *   input  := term '.'?        (white space and %-comments anywhere)
 *
 * Repeated map keys keep the last value, as maps:from_list/1 does.
 * Elements of the containers being parsed wait on one growable stack
 * (p->stack), so a container costs one arena array once it is complete.
 */
#include <string.h>

#include "core/utf8.h"
#include "edist/err.h"
#include "etf/atomsyntax.h"
#include "etf/keyorder.h"
#include "etf/parse_int.h"

#define DEFAULT_MAX_DEPTH 1000
#define DEFAULT_MAX_TERMS ((size_t)1 << 24)
#define DEFAULT_MAX_INPUT ((size_t)64 << 20)
#define ATOM_MAX_CHARS    255

int p_count(pstate *p)
{
    if (++p->terms > p->max_terms)
        return p_fail(p, EDIST_ETERMS, p->pos, "too many terms (cap %zu)",
                      p->max_terms);
    return 0;
}

static int push(pstate *p, const edist_term *t)
{
    int rc = edist_buf_append(&p->stack, t, sizeof *t);
    if (rc < 0)
        return p_fail(p, rc == EDIST_ETOOBIG ? EDIST_ETERMS : rc, p->pos,
                      "too many elements");
    return 0;
}

static edist_term *stack_at(pstate *p, size_t i)
{
    /* The stack is still unallocated while no element was pushed. */
    return p->stack.data ? (edist_term *)(void *)p->stack.data + i : NULL;
}

static size_t stack_top(const pstate *p)
{
    return p->stack.len / sizeof(edist_term);
}

static void stack_pop_to(pstate *p, size_t base)
{
    p->stack.len = base * sizeof(edist_term);
}

static int expect(pstate *p, const char *tok, const char *what)
{
    p_skip(p);
    size_t n = strlen(tok);
    if (p->n - p->pos >= n && memcmp(p->s + p->pos, tok, n) == 0) {
        p->pos += n;
        return 0;
    }
    return p_fail(p, EDIST_ESYNTAX, p->pos, "expected %s", what);
}

/* ------------------------------------------------------------- atoms */

/* Length in bytes of the unquoted atom at pos (0 if none). */
static size_t bare_atom_len(const pstate *p, size_t pos)
{
    size_t i = pos;
    uint32_t c;
    int k = edist_utf8_decode(p->s + i, p->n - i, &c);
    if (k <= 0 || !text_atom_start(c))
        return 0;
    i += (size_t)k;
    while (i < p->n && (k = edist_utf8_decode(p->s + i, p->n - i, &c)) > 0 &&
           text_atom_char(c))
        i += (size_t)k;
    return i - pos;
}

static int make_atom(pstate *p, edist_atom *out, const char *s, size_t n,
                     size_t at)
{
    edist_term t;
    int rc = edist_term_atom(p->a, &t, s, n);
    if (rc == EDIST_EATOMLEN)
        return p_fail(p, rc, at, "atom longer than 255 characters");
    if (rc < 0)
        return p_fail(p, rc, at, "cannot make atom: %s",
                      rc == EDIST_EUTF8 ? "invalid UTF-8" : "out of memory");
    *out = t.v.atom;
    return 0;
}

/* A quoted atom; p->pos is at the opening quote. */
static int quoted_atom(pstate *p, edist_atom *out)
{
    size_t at = p->pos++;
    char buf[ATOM_MAX_CHARS * 4 + 4];
    size_t len = 0, chars = 0;
    for (;;) {
        if (p->pos >= p->n)
            return p_fail(p, EDIST_ESYNTAX, at, "unterminated quoted atom");
        if (p->s[p->pos] == '\'') {
            p->pos++;
            break;
        }
        uint32_t cp;
        int rc = p_char(p, &cp, '\'');
        if (rc < 0)
            return rc;
        if (++chars > ATOM_MAX_CHARS)
            return p_fail(p, EDIST_EATOMLEN, at,
                          "atom longer than 255 characters");
        int k = edist_utf8_encode(cp, (uint8_t *)buf + len);
        if (k < 0)
            return p_fail(p, EDIST_ESYNTAX, at,
                          "character U+%04X cannot be in an atom",
                          (unsigned)cp);
        len += (size_t)k;
    }
    return make_atom(p, out, buf, len, at);
}

/* An atom, quoted or not, as needed after 'fun' and in node names. */
static int any_atom(pstate *p, edist_atom *out, const char *what)
{
    p_skip(p);
    if (p_peek(p, 0) == '\'')
        return quoted_atom(p, out);
    size_t n = bare_atom_len(p, p->pos);
    if (n == 0)
        return p_fail(p, EDIST_ESYNTAX, p->pos, "expected %s", what);
    size_t at = p->pos;
    p->pos += n;
    return make_atom(p, out, (const char *)p->s + at, n, at);
}

/* ----------------------------------------------------------- strings */

/* One or more adjacent string literals as a list of character codes. */
static int string_lit(pstate *p, edist_term *out)
{
    size_t base = stack_top(p);
    size_t at = p->pos;
    while (p_peek(p, 0) == '"') {
        p->pos++;
        for (;;) {
            if (p->pos >= p->n)
                return p_fail(p, EDIST_ESYNTAX, at, "unterminated string");
            if (p->s[p->pos] == '"') {
                p->pos++;
                break;
            }
            uint32_t cp;
            int rc = p_char(p, &cp, '"');
            if (rc < 0 || (rc = p_count(p)) < 0)
                return rc;
            edist_term c = edist_mk_int(cp);
            if ((rc = push(p, &c)) < 0)
                return rc;
        }
        size_t save = p->pos;
        p_skip(p);
        if (p_peek(p, 0) != '"')
            p->pos = save;
    }
    size_t n = stack_top(p) - base;
    edist_term t;
    if (edist_term_list(p->a, &t, n) < 0)
        return p_fail(p, EDIST_ENOMEM, at, "out of memory");
    if (n)
        memcpy(t.v.list.elems, stack_at(p, base), n * sizeof(edist_term));
    stack_pop_to(p, base);
    *out = t;
    return 0;
}

/* ------------------------------------------------------ containers */

static int list_lit(pstate *p, edist_term *out)
{
    size_t at = p->pos++;
    size_t base = stack_top(p);
    edist_term tail = edist_mk_nil(), e;
    int rc;
    p_skip(p);
    if (p_peek(p, 0) == ']') {
        p->pos++;
        *out = edist_mk_nil();
        return 0;
    }
    for (;;) {
        if ((rc = p_term(p, &e)) < 0 || (rc = push(p, &e)) < 0)
            return rc;
        p_skip(p);
        int c = p_peek(p, 0);
        if (c == ',') {
            p->pos++;
            continue;
        }
        if (c == '|') {
            p->pos++;
            if ((rc = p_term(p, &tail)) < 0)
                return rc;
            if ((rc = expect(p, "]", "']' after the list's tail")) < 0)
                return rc;
            break;
        }
        if (c == ']') {
            p->pos++;
            break;
        }
        return p_fail(p, EDIST_ESYNTAX, p->pos, "expected ',', '|' or ']'");
    }
    size_t n = stack_top(p) - base;
    edist_term t;
    if (edist_term_list(p->a, &t, n) < 0)
        return p_fail(p, EDIST_ENOMEM, at, "out of memory");
    memcpy(t.v.list.elems, stack_at(p, base), n * sizeof(edist_term));
    *t.v.list.tail = tail;
    stack_pop_to(p, base);
    *out = t;
    return 0;
}

static int tuple_lit(pstate *p, edist_term *out)
{
    size_t at = p->pos++;
    size_t base = stack_top(p);
    edist_term e;
    int rc;
    p_skip(p);
    if (p_peek(p, 0) != '}') {
        for (;;) {
            if ((rc = p_term(p, &e)) < 0 || (rc = push(p, &e)) < 0)
                return rc;
            p_skip(p);
            if (p_peek(p, 0) == ',') {
                p->pos++;
                continue;
            }
            if (p_peek(p, 0) == '}')
                break;
            return p_fail(p, EDIST_ESYNTAX, p->pos, "expected ',' or '}'");
        }
    }
    p->pos++;
    size_t n = stack_top(p) - base;
    edist_term t;
    if (edist_term_tuple(p->a, &t, n) < 0)
        return p_fail(p, EDIST_ENOMEM, at, "out of memory");
    if (n)
        memcpy(t.v.tuple.elems, stack_at(p, base), n * sizeof(edist_term));
    stack_pop_to(p, base);
    *out = t;
    return 0;
}

static int map_lit(pstate *p, edist_term *out)
{
    size_t at = p->pos;
    p->pos += 2; /* "#{" */
    size_t base = stack_top(p);
    edist_term e;
    int rc;
    p_skip(p);
    if (p_peek(p, 0) != '}') {
        for (;;) {
            if ((rc = p_term(p, &e)) < 0 || (rc = push(p, &e)) < 0)
                return rc;
            if ((rc = expect(p, "=>", "'=>' after the map key")) < 0)
                return rc;
            if ((rc = p_term(p, &e)) < 0 || (rc = push(p, &e)) < 0)
                return rc;
            p_skip(p);
            if (p_peek(p, 0) == ',') {
                p->pos++;
                continue;
            }
            if (p_peek(p, 0) == '}')
                break;
            return p_fail(p, EDIST_ESYNTAX, p->pos, "expected ',' or '}'");
        }
    }
    p->pos++;
    size_t n = (stack_top(p) - base) / 2;
    const edist_term *kv = stack_at(p, base);
    size_t *ix = n ? edist_arena_calloc(p->a, 2 * n, sizeof *ix) : NULL;
    if (n && !ix)
        return p_fail(p, EDIST_ENOMEM, at, "out of memory");
    if (n)
        term_key_order(kv, 2, ix, ix + n, n);
    /* Of equal keys (adjacent now, in input order), keep the last. */
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n && edist_term_equal(&kv[2 * ix[i]], &kv[2 * ix[i + 1]]))
            continue;
        ix[m++] = ix[i];
    }
    edist_term t;
    if (edist_term_map(p->a, &t, m) < 0)
        return p_fail(p, EDIST_ENOMEM, at, "out of memory");
    for (size_t i = 0; i < m; i++) {
        t.v.map.keys[i] = kv[2 * ix[i]];
        t.v.map.values[i] = kv[2 * ix[i] + 1];
    }
    stack_pop_to(p, base);
    *out = t;
    return 0;
}

/* ------------------------------------------- pids, ports, refs, funs */

static int read_u64(pstate *p, uint64_t max, uint64_t *v)
{
    size_t at = p->pos;
    uint64_t x = 0;
    int nd = 0;
    while (p_peek(p, 0) >= '0' && p_peek(p, 0) <= '9') {
        unsigned d = (unsigned)(p->s[p->pos++] - '0');
        if (x > (max - d) / 10)
            return p_fail(p, EDIST_ESYNTAX, at, "number too large");
        x = x * 10 + d;
        nd++;
    }
    if (nd == 0)
        return p_fail(p, EDIST_ESYNTAX, at, "expected a number");
    *v = x;
    return 0;
}

/* The node part of <0.…>, #Pid<…>, #Port<…>, #Ref<…>: "0" for the local
 * node, or node '/' creation. */
static int node_part(pstate *p, edist_atom *node, uint32_t *creation)
{
    size_t at = p->pos;
    if (p_peek(p, 0) == '0' && p_peek(p, 1) == '.') {
        p->pos++;
        if (!p->op->local_node.len)
            return p_fail(p, EDIST_ESYNTAX, at,
                          "local pid/port/ref syntax needs a local node "
                          "(use node/creation)");
        *creation = p->op->local_creation;
        return make_atom(p, node, p->op->local_node.name, p->op->local_node.len,
                         at);
    }
    int rc;
    if (p_peek(p, 0) == '\'') {
        if ((rc = quoted_atom(p, node)) < 0)
            return rc;
    } else {
        size_t i = p->pos;
        while (i < p->n && p->s[i] != '/' && p->s[i] != '>' && p->s[i] > ' ')
            i++;
        if (i == p->pos)
            return p_fail(p, EDIST_ESYNTAX, at, "expected a node name");
        if ((rc = make_atom(p, node, (const char *)p->s + p->pos, i - p->pos,
                            at)) < 0)
            return rc;
        p->pos = i;
    }
    if (p_peek(p, 0) != '/')
        return p_fail(p, EDIST_ESYNTAX, p->pos,
                      "expected '/' and the node's creation");
    p->pos++;
    uint64_t c;
    if ((rc = read_u64(p, UINT32_MAX, &c)) < 0)
        return rc;
    *creation = (uint32_t)c;
    return 0;
}

/* Reads ('.' number){min..max} '>'; returns the count or an error. */
static int dotted(pstate *p, uint64_t *v, int min, int max, uint64_t lim)
{
    int k = 0;
    while (p_peek(p, 0) == '.' && k < max) {
        p->pos++;
        int rc = read_u64(p, lim, &v[k++]);
        if (rc < 0)
            return rc;
    }
    if (k < min || p_peek(p, 0) != '>')
        return p_fail(p, EDIST_ESYNTAX, p->pos, "expected %s",
                      k < min ? "'.' and a number" : "'>'");
    p->pos++;
    return k;
}

static int pid_lit(pstate *p, edist_term *out, size_t skip)
{
    p->pos += skip;
    edist_atom node;
    uint32_t cr;
    uint64_t v[2];
    int rc;
    if ((rc = node_part(p, &node, &cr)) < 0 ||
        (rc = dotted(p, v, 2, 2, UINT32_MAX)) < 0)
        return rc;
    *out = edist_mk_pid(node, (uint32_t)v[0], (uint32_t)v[1], cr);
    return 0;
}

static int port_lit(pstate *p, edist_term *out)
{
    p->pos += 6; /* "#Port<" */
    edist_atom node;
    uint32_t cr;
    uint64_t v[1];
    int rc;
    if ((rc = node_part(p, &node, &cr)) < 0 ||
        (rc = dotted(p, v, 1, 1, UINT64_MAX)) < 0)
        return rc;
    *out = edist_mk_port(node, v[0], cr);
    return 0;
}

static int ref_lit(pstate *p, edist_term *out)
{
    p->pos += 5; /* "#Ref<" */
    edist_atom node;
    uint32_t cr, ids[5];
    uint64_t v[5];
    int rc, k;
    if ((rc = node_part(p, &node, &cr)) < 0)
        return rc;
    if ((k = dotted(p, v, 1, 5, UINT32_MAX)) < 0)
        return k;
    /* Printed most significant word first. */
    for (int i = 0; i < k; i++)
        ids[i] = (uint32_t)v[k - 1 - i];
    *out = edist_mk_ref(node, cr, ids, (uint32_t)k);
    return 0;
}

static int fun_lit(pstate *p, edist_term *out)
{
    edist_atom m, f;
    int rc;
    if ((rc = any_atom(p, &m, "a module name after 'fun'")) < 0 ||
        (rc = expect(p, ":", "':' after the module name")) < 0 ||
        (rc = any_atom(p, &f, "a function name")) < 0 ||
        (rc = expect(p, "/", "'/' and the arity")) < 0)
        return rc;
    p_skip(p);
    uint64_t ar;
    if ((rc = read_u64(p, 255, &ar)) < 0)
        return rc;
    out->type = EDIST_TERM_EXPORT;
    out->v.exp.module = m;
    out->v.exp.function = f;
    out->v.exp.arity = (uint32_t)ar;
    return 0;
}

/* -(Number) or +(Number): erl_parse:normalise/1 folds the operator into
 * a parenthesised number literal. */
static int signed_paren(pstate *p, edist_term *out, int neg)
{
    size_t at = p->pos;
    edist_term v;
    int rc = p_term(p, &v);
    if (rc < 0)
        return rc;
    if (v.type == EDIST_TERM_FLOAT) {
        *out = edist_mk_float(neg ? -v.v.f : v.v.f);
        return 0;
    }
    if (v.type != EDIST_TERM_INT && v.type != EDIST_TERM_BIGINT)
        return p_fail(p, EDIST_ESYNTAX, at, "expected a number after the sign");
    if (!neg) {
        *out = v;
        return 0;
    }
    if (v.type == EDIST_TERM_INT && v.v.i != INT64_MIN) {
        *out = edist_mk_int(-v.v.i);
        return 0;
    }
    /* INT64_MIN, or a bignum: rebuild from the magnitude, which also
     * normalises -(-(2^63)) and -(2^63) correctly. */
    uint8_t le[8];
    const uint8_t *mag;
    size_t n;
    int negative;
    if (v.type == EDIST_TERM_INT) {
        uint64_t u = (uint64_t)INT64_MAX + 1;
        for (int i = 0; i < 8; i++)
            le[i] = (uint8_t)(u >> (8 * i));
        mag = le;
        n = 8;
        negative = 0;
    } else {
        mag = v.v.big.digits;
        n = v.v.big.n;
        negative = !v.v.big.negative;
    }
    if ((rc = edist_term_bigint(p->a, out, negative, mag, n)) < 0)
        return p_fail(p, rc, at, "out of memory");
    return 0;
}

static int has(const pstate *p, const char *s)
{
    size_t n = strlen(s);
    return p->n - p->pos >= n && memcmp(p->s + p->pos, s, n) == 0;
}

/* ---------------------------------------------------------------- term */

static int p_term_inner(pstate *p, edist_term *out)
{
    int c = p_peek(p, 0);
    size_t at = p->pos;
    if (c < 0)
        return p_fail(p, EDIST_ESYNTAX, at, "expected a term");
    if ((c >= '0' && c <= '9') || c == '$')
        return p_number(p, out, 0);
    if (c == '-' || c == '+') {
        p->pos++;
        p_skip(p);
        int d = p_peek(p, 0);
        if ((d >= '0' && d <= '9') || d == '$')
            return p_number(p, out, c == '-');
        if (d == '(')
            return signed_paren(p, out, c == '-');
        return p_fail(p, EDIST_ESYNTAX, p->pos, "expected a number after '%c'",
                      c);
    }
    switch (c) {
    case '(': {
        /* Parentheses, which erl_parse drops. */
        int rc;
        p->pos++;
        p->depth++;
        rc = p_term(p, out);
        p->depth--;
        if (rc < 0)
            return rc;
        return expect(p, ")", "')'");
    }
    case '\'':
        out->type = EDIST_TERM_ATOM;
        return quoted_atom(p, &out->v.atom);
    case '"':
        return string_lit(p, out);
    case '[':
        return list_lit(p, out);
    case '{':
        return tuple_lit(p, out);
    case '#': {
        /* erl_scan makes '#' and '{' two tokens: "# {" is a map too. */
        size_t save = p->pos;
        p->pos++;
        p_skip(p);
        if (p_peek(p, 0) == '{') {
            p->pos--; /* map_lit skips two characters */
            return map_lit(p, out);
        }
        p->pos = save;
        if (has(p, "#Pid<"))
            return pid_lit(p, out, 5);
        if (has(p, "#Port<"))
            return port_lit(p, out);
        if (has(p, "#Ref<"))
            return ref_lit(p, out);
        if (has(p, "#Fun<"))
            return p_fail(p, EDIST_ESYNTAX, at,
                          "local funs (#Fun<...>) cannot be parsed");
        return p_fail(p, EDIST_ESYNTAX, at,
                      "expected '#{' (records are not terms)");
    }
    case '<':
        if (has(p, "<<")) {
            p->pos += 2;
            return p_binary(p, out);
        }
        if (p_peek(p, 1) >= '0' && p_peek(p, 1) <= '9')
            return pid_lit(p, out, 1);
        return p_fail(p, EDIST_ESYNTAX, at, "expected '<<' or a pid");
    }
    size_t n = bare_atom_len(p, at);
    if (n) {
        const char *word = text_reserved_word(p->s + at, n);
        if (word && strcmp(word, "fun") == 0) {
            p->pos += 3;
            return fun_lit(p, out);
        }
        if (word)
            return p_fail(p, EDIST_ESYNTAX, at,
                          "reserved word '%s' is not a term (quote it)", word);
        p->pos += n;
        out->type = EDIST_TERM_ATOM;
        return make_atom(p, &out->v.atom, (const char *)p->s + at, n, at);
    }
    if ((c >= 'A' && c <= 'Z') || c == '_')
        return p_fail(p, EDIST_ESYNTAX, at,
                      "variables are not allowed in terms");
    if (c >= ' ' && c < 127)
        return p_fail(p, EDIST_ESYNTAX, at, "expected a term, found '%c'", c);
    return p_fail(p, EDIST_ESYNTAX, at, "expected a term, found byte 0x%02X",
                  (unsigned)c);
}

int p_term(pstate *p, edist_term *out)
{
    int rc;
    p_skip(p);
    if ((rc = p_count(p)) < 0)
        return rc;
    if (++p->depth > p->max_depth)
        return p_fail(p, EDIST_EDEPTH, p->pos, "nesting deeper than %zu",
                      p->max_depth);
    rc = p_term_inner(p, out);
    p->depth--;
    return rc < 0 ? rc : p->rc;
}

int edist_term_parse(edist_arena *a, const char *text, size_t len,
                     const edist_parse_opts *opts, edist_term *out,
                     edist_text_error *err)
{
    static const edist_parse_opts defaults;
    const edist_parse_opts *op = opts ? opts : &defaults;
    if (err) {
        err->line = 0;
        err->col = 0;
        err->msg[0] = '\0';
    }
    pstate p;
    memset(&p, 0, sizeof p);
    p.a = a;
    p.s = (const uint8_t *)text;
    p.n = len;
    p.op = op;
    p.err = err;
    p.max_depth = op->max_depth ? op->max_depth : DEFAULT_MAX_DEPTH;
    p.max_terms = op->max_terms ? op->max_terms : DEFAULT_MAX_TERMS;
    if (!a || !out || (!text && len))
        return p_fail(&p, EDIST_EINVAL, 0, "invalid argument");
    if (len > (op->max_input ? op->max_input : DEFAULT_MAX_INPUT))
        return p_fail(&p, EDIST_ETOOBIG, 0, "input longer than the cap");
    size_t lim = p.max_terms <= SIZE_MAX / sizeof(edist_term)
                     ? p.max_terms * sizeof(edist_term)
                     : 0;
    edist_buf_init(&p.stack, lim, op->alloc);
    edist_term t;
    int rc = p_term(&p, &t);
    if (rc == 0) {
        p_skip(&p);
        if (p_peek(&p, 0) == '.') {
            p.pos++;
            p_skip(&p);
        }
        if (p.pos < p.n)
            rc = p_fail(&p, EDIST_ESYNTAX, p.pos,
                        "expected end of input after the term");
    }
    edist_buf_free(&p.stack);
    if (rc < 0)
        return rc;
    *out = t;
    return 0;
}
