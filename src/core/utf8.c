/*
 * utf8.c: strict UTF-8 (RFC 3629).  The same rules OTP's epmd applies to
 * node names and BEAM applies to UTF-8 atoms, so that edist accepts and
 * rejects exactly what they do.
 */
#include "core/utf8.h"
#include "edist/err.h"

int edist_utf8_decode(const uint8_t *s, size_t len, uint32_t *cp)
{
    if (len == 0)
        return EDIST_EAGAIN;
    uint8_t c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t n;
    uint32_t v, min;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2, v = c & 0x1F, min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3, v = c & 0x0F, min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4, v = c & 0x07, min = 0x10000;
    } else {
        return EDIST_EUTF8; /* continuation byte, C0/C1 overlong, > F4 */
    }
    if (len < n)
        return EDIST_EUTF8;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return EDIST_EUTF8;
        v = v << 6 | (s[i] & 0x3F);
    }
    if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        return EDIST_EUTF8;
    *cp = v;
    return (int)n;
}

long edist_utf8_count(const uint8_t *s, size_t len)
{
    long count = 0;
    size_t i = 0;
    while (i < len) {
        /* ASCII fast path: most node names and atoms are plain ASCII. */
        if (s[i] < 0x80) {
            i++;
            count++;
            continue;
        }
        uint32_t cp;
        int n = edist_utf8_decode(s + i, len - i, &cp);
        if (n < 0)
            return EDIST_EUTF8;
        i += (size_t)n;
        count++;
    }
    return count;
}

int edist_utf8_encode(uint32_t cp, uint8_t out[4])
{
    if (cp < 0x80) {
        out[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (uint8_t)(0xC0 | cp >> 6);
        out[1] = (uint8_t)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp >= 0xD800 && cp <= 0xDFFF)
        return EDIST_EUTF8;
    if (cp < 0x10000) {
        out[0] = (uint8_t)(0xE0 | cp >> 12);
        out[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    if (cp <= 0x10FFFF) {
        out[0] = (uint8_t)(0xF0 | cp >> 18);
        out[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3F));
        out[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
        out[3] = (uint8_t)(0x80 | (cp & 0x3F));
        return 4;
    }
    return EDIST_EUTF8;
}
