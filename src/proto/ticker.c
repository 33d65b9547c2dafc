/*
 * ticker.c: connection liveness as dist_util's send_tick does it
 * (protocol.md 3.7), with the time passed in.
 *
 * Every interval (ticktime / intensity):
 *   - tick if nothing was written and the send queue is empty, or if the
 *     connection is hidden and nothing was read;
 *   - count the interval as silent if nothing was read; `intensity` silent
 *     intervals in a row mean the peer is not responding.
 * dist_util keeps a tick counter modulo intensity and remembers the tick at
 * which it last saw input; counting silent intervals is the same rule.
 */
#include <string.h>

#include "edist/dist.h"
#include "edist/err.h"

/* Bits of edist_ticker.written (one field, so that the public struct kept
 * its size when the second was added). */
#define TK_WRITTEN  1
#define TK_TICK_OUT 2

int edist_ticker_init(edist_ticker *t, uint32_t ticktime_ms, uint32_t intensity,
                      int hidden, uint64_t now_ms)
{
    if (!t)
        return EDIST_EINVAL;
    memset(t, 0, sizeof *t);
    if (intensity < 4) /* also 0, the default: 4 */
        intensity = 4;
    if (intensity > 1000)
        intensity = 1000;
    uint64_t tt = ticktime_ms ? ticktime_ms : 60000;
    if (tt < 1000)
        tt = 1000;
    /* net_kernel: "Net tick time needs to be a multiple of net tick
     * intensity; round net tick time upwards if not". */
    if (tt % intensity)
        tt = (tt / intensity + 1) * intensity;
    if (tt > UINT32_MAX)
        tt = (UINT32_MAX / intensity) * intensity;
    t->ticktime_ms = (uint32_t)tt;
    t->intensity = intensity;
    t->interval_ms = tt / intensity;
    t->hidden = hidden != 0;
    t->next_ms = now_ms + t->interval_ms;
    return 0;
}

uint32_t edist_ticker_ticktime(const edist_ticker *t)
{
    return t->ticktime_ms;
}

uint64_t edist_ticker_interval(const edist_ticker *t)
{
    return t->interval_ms;
}

void edist_ticker_note_read(edist_ticker *t)
{
    t->read = 1;
}

void edist_ticker_note_write(edist_ticker *t)
{
    /* dist_util adds its own tick to the write count it compares with
     * (W2 = W1 + 1), so a tick is not "something written" at the next
     * interval.  Taking the first write after the request for the tick's
     * can only err towards one tick too many (another sender's data
     * written first), never a missing one. */
    if (t->written & TK_TICK_OUT) {
        t->written &= ~TK_TICK_OUT;
        return;
    }
    t->written |= TK_WRITTEN;
}

int edist_ticker_poll(edist_ticker *t, uint64_t now_ms, int queue_empty)
{
    if (now_ms < t->next_ms)
        return EDIST_TICK_IDLE;
    /* A caller late by more than an interval was stalled itself: evaluate
     * one interval and restart the schedule, like a BEAM timer firing once
     * after the VM was suspended. */
    if (now_ms - t->next_ms >= t->interval_ms)
        t->next_ms = now_ms + t->interval_ms;
    else
        t->next_ms += t->interval_ms;
    int was_read = t->read, was_written = t->written & TK_WRITTEN;
    t->read = 0;
    t->written = 0; /* and a tick asked for last time is forgotten */
    if (was_read) {
        t->silent = 0;
    } else if (++t->silent >= t->intensity) {
        return EDIST_ETIMEDOUT;
    }
    if ((!was_written && queue_empty) || (t->hidden && !was_read)) {
        t->written = TK_TICK_OUT;
        return EDIST_TICK_SEND;
    }
    return EDIST_TICK_IDLE;
}

uint64_t edist_ticker_next_deadline(const edist_ticker *t)
{
    return t->next_ms;
}
