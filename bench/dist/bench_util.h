/*
 * bench_util.h: clocks, percentiles and result lines shared by the C
 * programs of bench/dist (edist, libei and raw TCP sides).
 *
 * Every program prints "RESULT key value" lines; run.sh collects them.
 */
#ifndef EDIST_BENCH_UTIL_H
#define EDIST_BENCH_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double bu_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static inline int bu_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The p-quantile (0..1) of v[0..n), which it sorts in place. */
static inline double bu_pct(double *v, size_t n, double p)
{
    if (!n)
        return 0;
    qsort(v, n, sizeof *v, bu_cmp_double);
    size_t i = (size_t)(p * (double)n + 0.5);
    if (i < 1)
        i = 1;
    if (i > n)
        i = n;
    return v[i - 1];
}

static inline void bu_result(const char *prefix, const char *key, double v)
{
    printf("RESULT %s.%s %.1f\n", prefix, key, v);
    fflush(stdout);
}

/* Wire sizes of the three messages, for MB/s: the term_to_binary size
 * without the version byte, as BEAM's client reports it. */
static inline size_t bu_kind_size(const char *kind)
{
    if (!strcmp(kind, "bin100"))
        return 100 + 5;
    if (!strcmp(kind, "bin64k"))
        return 65536 + 5;
    return 0; /* small: computed by the caller from its own encoding */
}

static inline size_t bu_kind_bin(const char *kind)
{
    if (!strcmp(kind, "bin100"))
        return 100;
    if (!strcmp(kind, "bin64k"))
        return 65536;
    return 0;
}

#endif
