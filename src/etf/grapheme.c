/*
 * grapheme.c: counting characters the way io_lib_pretty does.
 *
 * io_lib:chars_length/1 counts a Latin-1 text by its length and anything
 * else with string:length/1, that is in grapheme clusters (UAX #29), so
 * "e\x{301}" is one column wide.  This counter follows OTP's segmentation
 * for what printed Erlang text can contain: marks that extend the previous
 * character (the table is generated from OTP itself, see
 * grapheme_tab.h), emoji joined by ZWJ, pairs of regional indicators
 * (flags), Hangul syllable sequences and prepended concatenation marks.
 * Rarer rules (Indic conjuncts of later Unicode versions) are not
 * modelled: such text may wrap a column differently from io_lib.
 */
#include <stddef.h>
#include <stdint.h>

#include "etf/text_int.h"
#include "etf/grapheme_tab.h"

static int in_table(uint32_t c)
{
    size_t lo = 0, hi = sizeof grapheme_extend / sizeof *grapheme_extend;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c < grapheme_extend[mid][0])
            hi = mid;
        else if (c > grapheme_extend[mid][1])
            lo = mid + 1;
        else
            return 1;
    }
    return 0;
}

static int pictographic(uint32_t c)
{
    return (c >= 0x1F000 && c <= 0x1FAFF) || (c >= 0x2600 && c <= 0x27BF) ||
           (c >= 0x2190 && c <= 0x21FF) || (c >= 0x2300 && c <= 0x23FF) ||
           (c >= 0x2B00 && c <= 0x2BFF) || c == 0xA9 || c == 0xAE ||
           c == 0x203C || c == 0x2049 || c == 0x2122 || c == 0x2139 ||
           c == 0x3030 || c == 0x303D || c == 0x3297 || c == 0x3299;
}

static int prepend(uint32_t c)
{
    return (c >= 0x600 && c <= 0x605) || c == 0x6DD || c == 0x70F ||
           c == 0x890 || c == 0x891 || c == 0x8E2 || c == 0xD4E ||
           c == 0x110BD || c == 0x110CD || c == 0x111C2 || c == 0x111C3 ||
           c == 0x1193F || c == 0x11941 || c == 0x11A3A ||
           (c >= 0x11A84 && c <= 0x11A89) || c == 0x11D46;
}

enum { H_NONE, H_L, H_V, H_T, H_LV, H_LVT };

static int hangul(uint32_t c)
{
    if ((c >= 0x1100 && c <= 0x115F) || (c >= 0xA960 && c <= 0xA97C))
        return H_L;
    if ((c >= 0x1160 && c <= 0x11A7) || (c >= 0xD7B0 && c <= 0xD7C6))
        return H_V;
    if ((c >= 0x11A8 && c <= 0x11FF) || (c >= 0xD7CB && c <= 0xD7FB))
        return H_T;
    if (c >= 0xAC00 && c <= 0xD7A3)
        return (c - 0xAC00) % 28 == 0 ? H_LV : H_LVT;
    return H_NONE;
}

/* Does c continue the cluster that ends with prev? */
static int joins(const text_out *o, uint32_t c)
{
    if (!o->g_started)
        return 0;
    uint32_t p = o->g_prev;
    if (prepend(p))
        return 1;
    if (c == 0x200D || in_table(c))
        return 1;
    if (p == 0x200D && o->g_pict && pictographic(c))
        return 1;
    if (c >= 0x1F1E6 && c <= 0x1F1FF && p >= 0x1F1E6 && p <= 0x1F1FF)
        return o->g_ri_odd;
    int hp = hangul(p), hc = hangul(c);
    if (hp == H_L && (hc == H_L || hc == H_V || hc == H_LV || hc == H_LVT))
        return 1;
    if ((hp == H_LV || hp == H_V) && (hc == H_V || hc == H_T))
        return 1;
    if ((hp == H_LVT || hp == H_T) && hc == H_T)
        return 1;
    return 0;
}

void text_count_cp(text_out *o, uint32_t c)
{
    /* Below U+0300 nothing extends or joins, and after such a character
     * nothing but an extending mark does: the common case is cheap. */
    if (c < 0x300 && o->g_prev < 0x300 && c != 0xA9 && c != 0xAE) {
        o->chars++;
        o->g_prev = c;
        o->g_started = 1;
        o->g_pict = 0;
        o->g_ri_odd = 0;
        return;
    }
    int j = joins(o, c);
    if (!j) {
        o->chars++;
        o->g_pict = pictographic(c);
        o->g_ri_odd = c >= 0x1F1E6 && c <= 0x1F1FF;
    } else if (c >= 0x1F1E6 && c <= 0x1F1FF) {
        o->g_ri_odd = 0; /* a flag is complete */
    } else if (pictographic(c)) {
        o->g_pict = 1;
    }
    o->g_prev = c;
    o->g_started = 1;
}
