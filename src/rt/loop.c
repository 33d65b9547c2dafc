/* loop.c: the I/O thread and its command queue (see loop.h). */
#include <stdlib.h>

#include "edist/err.h"
#include "rt/loop.h"

static void loop_drain(uv_async_t *h)
{
    edist_loop *l = h->data;
    for (;;) {
        pthread_mutex_lock(&l->mu);
        edist_loop_cmd *c = l->head;
        l->head = l->tail = NULL;
        int stopping = l->stopping;
        pthread_mutex_unlock(&l->mu);
        if (!c) {
            if (stopping && !uv_is_closing((uv_handle_t *)&l->wake)) {
                if (l->on_stop)
                    l->on_stop(l->ctx);
                uv_close((uv_handle_t *)&l->wake, NULL);
            }
            return;
        }
        while (c) {
            edist_loop_cmd *next = c->next;
            c->fn(c, l->ctx);
            c = next;
        }
    }
}

int edist_loop_init(edist_loop *l, void *ctx, void (*on_stop)(void *ctx))
{
    l->head = l->tail = NULL;
    l->ctx = ctx;
    l->on_stop = on_stop;
    l->started = 0;
    l->stopping = 0;
    if (uv_loop_init(&l->uv) != 0)
        return EDIST_ESYS;
    if (pthread_mutex_init(&l->mu, NULL) != 0) {
        uv_loop_close(&l->uv);
        return EDIST_ESYS;
    }
    if (uv_async_init(&l->uv, &l->wake, loop_drain) != 0) {
        pthread_mutex_destroy(&l->mu);
        uv_loop_close(&l->uv);
        return EDIST_ESYS;
    }
    l->wake.data = l;
    return 0;
}

static void *loop_main(void *arg)
{
    edist_loop *l = arg;
    uv_run(&l->uv, UV_RUN_DEFAULT);
    return NULL;
}

int edist_loop_start(edist_loop *l)
{
    /* Set before the thread exists, so that its own reads (on_thread)
     * are ordered after the write (TSan found the race). */
    l->started = 1;
    if (pthread_create(&l->thread, NULL, loop_main, l) != 0) {
        l->started = 0;
        return EDIST_ESYS;
    }
    return 0;
}

int edist_loop_post(edist_loop *l, edist_loop_cmd *cmd)
{
    cmd->next = NULL;
    pthread_mutex_lock(&l->mu);
    if (l->stopping) {
        pthread_mutex_unlock(&l->mu);
        return EDIST_ESHUTDOWN;
    }
    int was_empty = l->head == NULL;
    if (l->tail)
        l->tail->next = cmd;
    else
        l->head = cmd;
    l->tail = cmd;
    pthread_mutex_unlock(&l->mu);
    /* A non-empty queue already has a wake-up pending. */
    if (was_empty)
        uv_async_send(&l->wake);
    return 0;
}

typedef struct loop_sync {
    edist_loop_cmd cmd;
    int (*fn)(void *arg, void *ctx);
    void *arg;
    int result;
    int done;
    pthread_mutex_t mu;
    pthread_cond_t cv;
} loop_sync;

static void loop_sync_run(edist_loop_cmd *cmd, void *ctx)
{
    loop_sync *s = (loop_sync *)cmd;
    int r = s->fn(s->arg, ctx);
    pthread_mutex_lock(&s->mu);
    s->result = r;
    s->done = 1;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

int edist_loop_call(edist_loop *l, int (*fn)(void *arg, void *ctx), void *arg)
{
    if (edist_loop_on_thread(l))
        return fn(arg, l->ctx);
    loop_sync s;
    s.cmd.fn = loop_sync_run;
    s.fn = fn;
    s.arg = arg;
    s.result = 0;
    s.done = 0;
    pthread_mutex_init(&s.mu, NULL);
    pthread_cond_init(&s.cv, NULL);
    int rc = edist_loop_post(l, &s.cmd);
    if (rc == 0) {
        pthread_mutex_lock(&s.mu);
        while (!s.done)
            pthread_cond_wait(&s.cv, &s.mu);
        pthread_mutex_unlock(&s.mu);
        rc = s.result;
    }
    pthread_cond_destroy(&s.cv);
    pthread_mutex_destroy(&s.mu);
    return rc;
}

void edist_loop_stop(edist_loop *l)
{
    pthread_mutex_lock(&l->mu);
    l->stopping = 1;
    pthread_mutex_unlock(&l->mu);
    uv_async_send(&l->wake);
    if (l->started)
        pthread_join(l->thread, NULL);
    else
        uv_run(&l->uv, UV_RUN_DEFAULT); /* never started: close here */
    uv_loop_close(&l->uv);
    pthread_mutex_destroy(&l->mu);
}
