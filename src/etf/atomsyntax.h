/* atomsyntax.h: which atoms Erlang reads without quotes (erl_scan), shared
 * by the parser, which reads them bare, and the printer, which quotes
 * every other atom: one definition keeps the two in agreement. */
#ifndef EDIST_ETF_ATOMSYNTAX_H
#define EDIST_ETF_ATOMSYNTAX_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A code point that may start an unquoted atom: a-z and the Latin-1
 * lowercase letters. */
static inline int text_atom_start(uint32_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 0xDF && c <= 0xFF && c != 0xF7);
}

/* A code point that may follow in an unquoted atom. */
static inline int text_atom_char(uint32_t c)
{
    return text_atom_start(c) || (c >= 'A' && c <= 'Z') ||
           (c >= 0xC0 && c <= 0xDE && c != 0xD7) || (c >= '0' && c <= '9') ||
           c == '_' || c == '@';
}

/* erl_scan:reserved_word/1 of OTP 25 (without feature keywords): returns
 * the word (NUL-terminated) when s[0..n) is one, else NULL. */
static inline const char *text_reserved_word(const uint8_t *s, size_t n)
{
    static const struct {
        const char *name;
        size_t len;
    } words[] = {
#define R(s) {s, sizeof(s) - 1}
        R("after"),   R("begin"),   R("case"), R("try"),  R("cond"), R("catch"),
        R("andalso"), R("orelse"),  R("end"),  R("fun"),  R("if"),   R("let"),
        R("of"),      R("receive"), R("when"), R("bnot"), R("not"),  R("div"),
        R("rem"),     R("band"),    R("and"),  R("bor"),  R("bxor"), R("bsl"),
        R("bsr"),     R("or"),      R("xor")
#undef R
    };
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (words[i].len == n && memcmp(words[i].name, s, n) == 0)
            return words[i].name;
    return NULL;
}

#endif
