/*
 * proc_link.c: the public edist_link / edist_unlink, thin entry points
 * over the signals layer (signals.c does the work).
 */
#include "edist/proc.h"
#include "rt/signals.h"

int edist_link(edist_mbox *mb, const edist_term *pid)
{
    return sig_link(mb, pid);
}

int edist_unlink(edist_mbox *mb, const edist_term *pid)
{
    return sig_unlink(mb, pid);
}
