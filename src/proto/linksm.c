/*
 * linksm.c: the link state machine (see linksm.h).
 */
#include "proto/linksm.h"

int edist_linksm_link(edist_linksm *s)
{
    if (s->exists && s->unlink_id == 0)
        return 0; /* already linked: one link */
    /* New, or again while our unlink is outstanding: the link is active
     * from now on; the peer removes its side on our UNLINK_ID and sets it
     * up again on this LINK, which it receives after. */
    s->exists = 1;
    s->unlink_id = 0;
    return EDIST_LSM_SEND_LINK;
}

int edist_linksm_unlink(edist_linksm *s, uint64_t id)
{
    if (!s->exists || s->unlink_id != 0)
        return 0; /* not linked, or already unlinking */
    s->unlink_id = id;
    return EDIST_LSM_SEND_UNLINK_ID;
}

int edist_linksm_recv_link(edist_linksm *s)
{
    if (s->exists)
        return 0; /* linked already, or unlinking: ignored */
    s->exists = 1;
    s->unlink_id = 0;
    return 0;
}

int edist_linksm_recv_exit(edist_linksm *s)
{
    if (!s->exists)
        return 0;
    if (s->unlink_id != 0)
        return 0; /* unlinking: the signal is ignored */
    s->exists = 0;
    return EDIST_LSM_DELIVER_EXIT | EDIST_LSM_DROP;
}

int edist_linksm_recv_unlink(edist_linksm *s)
{
    if (s->exists && s->unlink_id == 0) {
        s->exists = 0;
        return EDIST_LSM_SEND_ACK | EDIST_LSM_DROP;
    }
    /* No link, or both sides unlink at once: our own ack removes it. */
    return EDIST_LSM_SEND_ACK | (s->exists ? 0 : EDIST_LSM_DROP);
}

int edist_linksm_recv_ack(edist_linksm *s, uint64_t id)
{
    if (s->exists && s->unlink_id != 0 && s->unlink_id == id) {
        s->exists = 0;
        s->unlink_id = 0;
        return EDIST_LSM_DROP;
    }
    return s->exists ? 0 : EDIST_LSM_DROP;
}

int edist_linksm_local_exit(edist_linksm *s)
{
    int act = s->exists && s->unlink_id == 0 ? EDIST_LSM_SEND_EXIT : 0;
    s->exists = 0;
    s->unlink_id = 0;
    return act | EDIST_LSM_DROP;
}

int edist_linksm_conn_down(edist_linksm *s)
{
    int act = s->exists && s->unlink_id == 0 ? EDIST_LSM_DELIVER_EXIT : 0;
    s->exists = 0;
    s->unlink_id = 0;
    return act | EDIST_LSM_DROP;
}
