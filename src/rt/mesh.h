/*
 * mesh.h: the node's global_name_server (rt/mesh.c over the sans-IO
 * proto/global.c): what makes a visible edist node a member of the fully
 * connected mesh BEAM nodes keep (docs/mesh.md).
 *
 * Every entry point but mesh_init, mesh_destroy and mesh_nodes runs on the
 * I/O thread.
 */
#ifndef EDIST_RT_MESH_H
#define EDIST_RT_MESH_H

#include <stddef.h>

#include "edist/dist.h"
#include "edist/node.h"

typedef struct rt_mesh rt_mesh;
struct edist_peer;

/* Sets up n->mesh for a visible node (a hidden node gets none: global
 * ignores hidden connections).  Call once the node has its name and
 * creation.  Returns 0 or EDIST_ENOMEM. */
int mesh_init(edist_node *n, int no_connect_all);
/* Closes the mesh's mailboxes (edist_node_stop, while the loop runs). */
void mesh_stop(edist_node *n);
/* Frees the state (node_free). */
void mesh_destroy(edist_node *n);

/* A connection came up or went down (visible: a published connection). */
void mesh_peer_event(edist_node *n, const char *peer, size_t len, int up,
                     int visible);

/* A REG_SEND to global_name_server whose message starts at payload.
 * Returns 0. */
int mesh_route(edist_node *n, const edist_dist_msg *m, const uint8_t *payload);

/* {Pid, features_request} sent to rex: answers as rpc.erl does and returns
 * 1; 0 for any other message. */
int mesh_rex_features(edist_node *n, const edist_term *msg);

/* Whether the peer is in global's known set (our partition). */
int mesh_is_known(edist_node *n, const char *peer, size_t len);

#endif
