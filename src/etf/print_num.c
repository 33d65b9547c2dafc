/*
 * print_num.c: numbers as Erlang prints them.
 *
 * Floats follow float_to_list(F, [short]) of OTP 25, which io_lib uses for
 * ~w and ~p: the shortest digit string that reads back as the same double
 * (Ryu), laid out by OTP's to_chars() (erts/emulator/ryu/to_chars.h):
 * with D the digits (no trailing zeros), n their count and E the exponent
 * of the last digit (value = D * 10^E), the fixed form ("123.45", "100.0",
 * "0.001") is used when lower <= E <= upper, where upper is 2 for n == 1 or
 * when the scientific exponent is >= 10, else 1, and lower is -4 for n == 1
 * or -(n + 2) otherwise; integers of 2^53 and more always use the
 * scientific form ("1.0e16", "9.007199254740992e15").
 *
 * The shortest digits come from the C library: the smallest p in 1..17
 * such that %.{p-1}e converts back exactly (binary search); the candidate
 * one unit above or below in the last digit is tried too, because at a
 * power of two the rounding interval is lopsided.  The decimal point is
 * moved into the exponent before strtod, so no locale can interfere.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etf/text_int.h"

/* Reads digits and exponent from %e output (any decimal point). */
static int sci_parts(const char *s, char *digits, int *exp10)
{
    int n = 0;
    const char *p = s;
    for (; *p && *p != 'e' && *p != 'E'; p++)
        if (*p >= '0' && *p <= '9')
            digits[n++] = *p;
    digits[n] = '\0';
    *exp10 = *p ? atoi(p + 1) : 0;
    return n;
}

/* Does digits * 10^(exp10 - n + 1) read back as f (f > 0)? */
static int reads_back(const char *digits, int n, int exp10, double f)
{
    char buf[48];
    snprintf(buf, sizeof buf, "%.*se%d", n, digits, exp10 - (n - 1));
    return strtod(buf, NULL) == f;
}

/* Adds delta (+1 or -1) to the last digit, with carry; returns the new
 * digit count (a carry out of the top keeps n and bumps exp10). */
static int bump(char *d, int n, int *exp10, int delta)
{
    int i = n - 1;
    if (delta > 0) {
        while (i >= 0 && d[i] == '9')
            d[i--] = '0';
        if (i < 0) {
            d[0] = '1';
            (*exp10)++;
            return n;
        }
        d[i]++;
    } else {
        while (i >= 0 && d[i] == '0')
            d[i--] = '9';
        if (i < 0)
            return 0;
        d[i]--;
        if (d[0] == '0') {
            /* 1000 - 1 = 0999, which is 9999 one exponent lower. */
            memmove(d, d + 1, (size_t)n - 1);
            d[n - 1] = '9';
            (*exp10)--;
        }
    }
    return n;
}

/* The p-digit decimal that reads back as f (f > 0), if any: the correctly
 * rounded one, or the one a unit above or below in the last digit (at a
 * power of two the rounding interval is lopsided).  Returns the digit
 * count (0 if none) with digits and the exponent of the first digit. */
static int digits_at(double f, int p, char digits[24], int *exp10)
{
    char buf[48];
    snprintf(buf, sizeof buf, "%.*e", p - 1, f);
    int e, n = sci_parts(buf, digits, &e);
    if (reads_back(digits, n, e, f)) {
        *exp10 = e;
        return n;
    }
    for (int delta = -1; delta <= 1; delta += 2) {
        char alt[24];
        int ae = e;
        memcpy(alt, digits, (size_t)n + 1);
        int an = bump(alt, n, &ae, delta);
        if (an && reads_back(alt, an, ae, f)) {
            memcpy(digits, alt, (size_t)an + 1);
            *exp10 = ae;
            return an;
        }
    }
    return 0;
}

/* Shortest digits of f > 0; returns the count, digits without trailing
 * zeros, and *exp10 the exponent of the first digit.  The digit counts
 * that read back are all those from the shortest up (a correctly rounded
 * longer string is closer still), so a binary search over 1..17 finds it
 * in about four conversions. */
static int shortest(double f, char digits[24], int *exp10)
{
    int lo = 1, hi = 17;
    char tmp[24];
    int te;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (digits_at(f, mid, tmp, &te))
            hi = mid;
        else
            lo = mid + 1;
    }
    if (!digits_at(f, lo, digits, exp10)) {
        /* 17 digits always read back; not reached. */
        char buf[48];
        snprintf(buf, sizeof buf, "%.16e", f);
        sci_parts(buf, digits, exp10);
    }
    int n = (int)strlen(digits);
    while (n > 1 && digits[n - 1] == '0')
        digits[--n] = '\0';
    return n;
}

size_t text_float(double f, char out[40])
{
    size_t k = 0;
    if (!isfinite(f)) {
        /* Not an Erlang value (terms hold finite doubles); printed so
         * that a malformed term still gives readable text. */
        const char *s = isnan(f) ? "nan" : f > 0 ? "inf" : "-inf";
        strcpy(out, s);
        return strlen(s);
    }
    if (signbit(f)) {
        out[k++] = '-';
        f = -f;
    }
    if (f == 0) {
        memcpy(out + k, "0.0", 4);
        return k + 3;
    }
    char d[24];
    int sx; /* scientific exponent: value = d.ddd * 10^sx */
    int n = shortest(f, d, &sx);
    int e = sx - (n - 1); /* exponent of the last digit */
    int lower, upper;
    if (n == 1) {
        lower = -4;
        upper = 2;
    } else {
        lower = -(n + 2);
        upper = sx >= 10 ? 2 : 1;
    }
    int fixed = lower <= e && e <= upper;
    if (fixed) {
        /* OTP's special case: integers of 2^53 and up print scientific. */
        unsigned long long m = strtoull(d, NULL, 10);
        if ((m >= (1ull << 53) && e == 0) || (m > (1ull << 52) / 5 && e == 1) ||
            (m > (1ull << 51) / 25 && e == 2))
            fixed = 0;
    }
    if (fixed) {
        if (e >= 0) {
            memcpy(out + k, d, (size_t)n);
            k += (size_t)n;
            for (int i = 0; i < e; i++)
                out[k++] = '0';
            out[k++] = '.';
            out[k++] = '0';
        } else if (n + e > 0) {
            int whole = n + e;
            memcpy(out + k, d, (size_t)whole);
            k += (size_t)whole;
            out[k++] = '.';
            memcpy(out + k, d + whole, (size_t)(n - whole));
            k += (size_t)(n - whole);
        } else {
            out[k++] = '0';
            out[k++] = '.';
            for (int i = 0; i < -(n + e); i++)
                out[k++] = '0';
            memcpy(out + k, d, (size_t)n);
            k += (size_t)n;
        }
        out[k] = '\0';
        return k;
    }
    out[k++] = d[0];
    out[k++] = '.';
    if (n > 1) {
        memcpy(out + k, d + 1, (size_t)n - 1);
        k += (size_t)n - 1;
    } else {
        out[k++] = '0';
    }
    k += (size_t)snprintf(out + k, 40 - k, "e%d", sx);
    return k;
}
