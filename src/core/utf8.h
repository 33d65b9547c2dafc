/* utf8.h: strict UTF-8 validation, as OTP's epmd and BEAM apply it. */
#ifndef EDIST_CORE_UTF8_H
#define EDIST_CORE_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * Validates s[0..len) as strict UTF-8: no overlong forms, no surrogates
 * (U+D800..U+DFFF), nothing above U+10FFFF, no truncated sequence.  NUL bytes
 * are valid UTF-8 here; callers that forbid them check separately.
 * Returns the number of code points (>= 0), or EDIST_EUTF8.
 */
long edist_utf8_count(const uint8_t *s, size_t len);

/*
 * Decodes one code point at s[0..len).  On success stores it in *cp and
 * returns the sequence length (1..4); returns EDIST_EUTF8 on an invalid or
 * truncated sequence and EDIST_EAGAIN when len is 0.
 */
int edist_utf8_decode(const uint8_t *s, size_t len, uint32_t *cp);

/* Encodes cp (<= 0x10FFFF, not a surrogate) into out[0..4); returns the
 * length 1..4, or EDIST_EUTF8 for an unencodable value. */
int edist_utf8_encode(uint32_t cp, uint8_t out[4]);

#endif
