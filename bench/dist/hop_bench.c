/*
 * hop_bench: what one thread hop costs on this machine: two threads pass a
 * token back and forth through a mutex and condition variable (the way
 * edist's I/O thread hands a message to a thread blocked in edist_recv).
 * Prints the round trip (two hops) p50/p99 in microseconds.
 *
 *   hop_bench PREFIX ROUNDS
 */
#include <pthread.h>
#include <stdint.h>

#include "bench_util.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static uint64_t turn; /* odd: the echo thread's turn */
static long rounds;

static void *echo_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    for (long i = 0; i < rounds; i++) {
        while (!(turn & 1))
            pthread_cond_wait(&cv, &mu);
        turn++;
        pthread_cond_broadcast(&cv);
    }
    pthread_mutex_unlock(&mu);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    rounds = atol(argv[2]);
    double *v = malloc((size_t)rounds * sizeof *v);
    pthread_t t;
    pthread_create(&t, NULL, echo_main, NULL);
    for (long i = 0; i < rounds; i++) {
        double t0 = bu_now_us();
        pthread_mutex_lock(&mu);
        turn++;
        pthread_cond_broadcast(&cv);
        while (turn & 1)
            pthread_cond_wait(&cv, &mu);
        pthread_mutex_unlock(&mu);
        v[i] = bu_now_us() - t0;
    }
    pthread_join(t, NULL);
    bu_result(argv[1], "hop2.p50", bu_pct(v, (size_t)rounds, 0.50));
    bu_result(argv[1], "hop2.p99", bu_pct(v, (size_t)rounds, 0.99));
    free(v);
    return 0;
}
