/* text_int.h: internals shared by the term printer (print.c, pretty.c). */
#ifndef EDIST_ETF_TEXT_INT_H
#define EDIST_ETF_TEXT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "edist/etf_text.h"

/* An output sink: counts every byte, stores those that fit in buf (one
 * byte is kept for the NUL), and counts characters (grapheme clusters, as
 * io_lib:chars_length/1) for the column arithmetic of ~p.  err latches
 * the first error. */
typedef struct text_out {
    char *buf;
    size_t cap;
    size_t len;   /* bytes produced so far */
    size_t chars; /* characters produced so far */
    size_t max;   /* cap on len */
    int err;
    /* UTF-8 decoding and grapheme state for chars. */
    uint32_t u_cp;
    int u_need;
    uint32_t g_prev;
    int g_started, g_pict, g_ri_odd;
} text_out;

/* Counts one code point into o->chars (grapheme.c). */
void text_count_cp(text_out *o, uint32_t cp);

void text_put(text_out *o, const char *s, size_t n);
void text_putc(text_out *o, char c);
void text_spaces(text_out *o, size_t n);

/* Writes one term on a single line: ~w when strings is 0, and ~p's
 * single-line form (printable lists and binaries as strings) when 1. */
void text_write(text_out *o, const edist_term *t, const edist_print_opts *op,
                int strings);

/* ~p's classification of a term, as io_lib_pretty:print_length sees it. */
int text_printable_list(const edist_term *t, const edist_print_opts *op);
enum { TEXT_BIN_BYTES, TEXT_BIN_STRING, TEXT_BIN_UTF8 };
int text_printable_bin(const edist_term *t, const edist_print_opts *op);

/* Writes a map's keys in exact term order: fills idx[0..n) with the sorted
 * order.  Returns 0 or EDIST_ENOMEM (idx is caller-allocated). */
int text_map_order(const edist_term *m, size_t *idx, const edist_allocator *al);

/* The binary body as io_lib:write_binary lists it: the i-th segment
 * ("123" or the final value:bits, "5:3") into seg (at least 24 bytes); returns
 * its length, or 0 past the end. */
size_t text_bin_segment(const edist_term *t, size_t i, char seg[24]);

/* ~p (io_lib_pretty) layout; falls back to text_write when it fits. */
int text_pretty(text_out *o, const edist_term *t, const edist_print_opts *op);

/* Erlang's float_to_list(F, [short]) into out; returns the length. */
size_t text_float(double f, char out[40]);

#endif
