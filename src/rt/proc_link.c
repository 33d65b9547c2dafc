/*
 * proc_link.c: the public edist_link / edist_unlink.  They live in a file
 * of their own because the runtime's internal headers use the name
 * edist_link for a connection (see edist/proc.h); signals.c does the work.
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
