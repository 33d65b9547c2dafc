/*
 * nodes.c: erlang:nodes/1 for a node (edist_node_nodes): the peers whose
 * connection is up, visible, hidden or both.
 */
#include <stdlib.h>
#include <string.h>

#include "edist/err.h"
#include "rt/node_int.h"

int edist_node_nodes(edist_node *n, unsigned which, const char **names,
                     size_t cap, char *buf, size_t buf_len)
{
    if (!n || which == 0 || which > EDIST_NODES_CONNECTED ||
        (cap && (!names || !buf)))
        return EDIST_EINVAL;
    edist_peer **list;
    size_t k = peer_snapshot(n, &list);
    size_t count = 0, used = 0;
    int rc = 0;
    for (size_t i = 0; i < k; i++) {
        edist_peer *p = list[i];
        pthread_mutex_lock(&p->mu);
        int up = p->state == PEER_UP;
        pthread_mutex_unlock(&p->mu);
        /* visible is written once, by the I/O thread, before the state
         * becomes PEER_UP under the lock we just took. */
        unsigned kind = p->visible ? EDIST_NODES_VISIBLE : EDIST_NODES_HIDDEN;
        if (up && (which & kind)) {
            if (count < cap) {
                if (used + p->name_len + 1 > buf_len) {
                    rc = EDIST_ETOOBIG;
                } else {
                    memcpy(buf + used, p->name, p->name_len + 1);
                    names[count] = buf + used;
                    used += p->name_len + 1;
                }
            }
            count++;
        }
        peer_unref(p);
    }
    free(list);
    return rc < 0 ? rc : (int)count;
}
