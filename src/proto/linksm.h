/*
 * linksm.h: the link state machine of one side of a link between a local
 * process and a remote one, with the unlink protocol of OTP 23+
 * (protocol.md 3.6; erl_dist_protocol "New Link Protocol").  Pure: every
 * event returns the actions the caller must take (send a control message,
 * deliver an exit signal, drop the state); the caller does the I/O.
 *
 * State: whether a link exists, and while our UNLINK_ID is outstanding,
 * its id.  Exit signals through a link being unlinked are ignored; the
 * link goes when the matching UNLINK_ID_ACK arrives (or when the peer
 * unlinks too).  A LINK received while our unlink is outstanding is
 * ignored; linking again locally makes the link active again, and the
 * stale acknowledgement then removes nothing.
 */
#ifndef EDIST_PROTO_LINKSM_H
#define EDIST_PROTO_LINKSM_H

#include <stdint.h>

typedef struct edist_linksm {
    int exists;         /* a link state is held */
    uint64_t unlink_id; /* != 0: our UNLINK_ID with this id is outstanding */
} edist_linksm;

/* Actions, or'ed together. */
enum {
    EDIST_LSM_SEND_LINK = 1,      /* send LINK */
    EDIST_LSM_SEND_UNLINK_ID = 2, /* send UNLINK_ID with the new id */
    EDIST_LSM_SEND_ACK = 4,       /* send UNLINK_ID_ACK with the peer's id */
    EDIST_LSM_DELIVER_EXIT = 8,   /* deliver the exit signal */
    EDIST_LSM_SEND_EXIT = 16,     /* send EXIT (our process ended) */
    EDIST_LSM_DROP = 32           /* the state is gone: free it */
};

/* link(Pid) called locally. */
int edist_linksm_link(edist_linksm *s);
/* unlink(Pid) called locally; id is a fresh non-zero id. */
int edist_linksm_unlink(edist_linksm *s, uint64_t id);
/* LINK received. */
int edist_linksm_recv_link(edist_linksm *s);
/* EXIT received through the link. */
int edist_linksm_recv_exit(edist_linksm *s);
/* UNLINK_ID received (always acknowledged). */
int edist_linksm_recv_unlink(edist_linksm *s);
/* UNLINK_ID_ACK with id received. */
int edist_linksm_recv_ack(edist_linksm *s, uint64_t id);
/* The local process ended. */
int edist_linksm_local_exit(edist_linksm *s);
/* The connection went down: deliver noconnection if active. */
int edist_linksm_conn_down(edist_linksm *s);

#endif
