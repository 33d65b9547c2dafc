/*
 * loop.h: the I/O thread of a node: one libuv loop on a thread of its own,
 * and a way for any thread to run a function on it.
 *
 * Everything that touches a socket or a timer runs on this thread, so
 * connection state needs no locks; user threads talk to it by posting
 * commands.  Posting is a mutex-protected append plus uv_async_send(),
 * which coalesces: a burst of posts costs one wake-up.
 */
#ifndef EDIST_RT_LOOP_H
#define EDIST_RT_LOOP_H

#include <pthread.h>
#include <uv.h>

typedef struct edist_loop_cmd edist_loop_cmd;

/* A command: fn runs on the I/O thread with the command itself, which the
 * poster allocated and fn (or its continuation) owns from then on.  Embed
 * it first in a larger struct to carry arguments. */
struct edist_loop_cmd {
    edist_loop_cmd *next;
    void (*fn)(edist_loop_cmd *cmd, void *ctx);
};

typedef struct edist_loop {
    uv_loop_t uv;
    uv_async_t wake;
    pthread_t thread;
    pthread_mutex_t mu;
    edist_loop_cmd *head, *tail;
    void *ctx; /* passed to every command */
    int started;
    int stopping;               /* no more posts accepted */
    void (*on_stop)(void *ctx); /* runs on the I/O thread, closes handles */
} edist_loop;

/* Initialises the loop (not yet running).  Returns 0 or EDIST_ESYS.  ctx
 * is passed to every command; on_stop runs on the I/O thread when
 * edist_loop_stop() is called and must close every handle it owns so that
 * the loop can end. */
int edist_loop_init(edist_loop *l, void *ctx, void (*on_stop)(void *ctx));

/* Starts the I/O thread.  Returns 0 or EDIST_ESYS. */
int edist_loop_start(edist_loop *l);

/* Queues cmd to run on the I/O thread, in posting order.  Returns 0, or
 * EDIST_ESHUTDOWN when the loop is stopping (cmd stays the caller's). */
int edist_loop_post(edist_loop *l, edist_loop_cmd *cmd);

/* Runs fn(arg, ctx) on the I/O thread and waits for it to return.  Must not
 * be called from the I/O thread itself (it would wait for itself); there
 * it calls fn directly.  Returns fn's result, or EDIST_ESHUTDOWN. */
int edist_loop_call(edist_loop *l, int (*fn)(void *arg, void *ctx), void *arg);

/* True when called on the loop's own thread.  Inline: every send and
 * delivery asks it, several times per message. */
static inline int edist_loop_on_thread(const edist_loop *l)
{
    return l->started && pthread_equal(pthread_self(), l->thread);
}

/* Stops the loop: runs on_stop on the I/O thread, waits until every handle
 * is closed and the thread has ended, then frees the loop's resources.
 * Commands still queued are run first.  Must not be called from the I/O
 * thread. */
void edist_loop_stop(edist_loop *l);

#endif
