/*
 * clock.h: the runtime's one clock.  Every timeout, tick and deadline is
 * measured on CLOCK_MONOTONIC, so that a wall-clock jump neither cuts a
 * wait short nor stretches it; condition variables that time out are
 * created on the same clock.
 */
#ifndef EDIST_RT_CLOCK_H
#define EDIST_RT_CLOCK_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

static inline uint64_t node_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t node_now_ms(void)
{
    return node_now_ns() / 1000000u;
}

/* The absolute monotonic time ms milliseconds from now, for
 * pthread_cond_timedwait on a condition made by node_cond_init(). */
static inline void node_deadline(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* Milliseconds left until deadline, rounded up; 0 when passed. */
static inline int node_left_ms(const struct timespec *deadline)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t ns = (int64_t)(deadline->tv_sec - now.tv_sec) * 1000000000 +
                 (deadline->tv_nsec - now.tv_nsec);
    if (ns <= 0)
        return 0;
    return (int)((ns + 999999) / 1000000);
}

/* Initialises a condition variable that times out on the monotonic
 * clock.  Returns 0 or an errno value. */
static inline int node_cond_init(pthread_cond_t *cv)
{
    pthread_condattr_t ca;
    int rc = pthread_condattr_init(&ca);
    if (rc != 0)
        return rc;
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    rc = pthread_cond_init(cv, &ca);
    pthread_condattr_destroy(&ca);
    return rc;
}

#endif
