/*
 * mesh.c: the node's global_name_server.  Feeds node up/down events and
 * the messages peers send to global_name_server into the sans-IO global
 * state machine (proto/global.c) and carries out what it asks: messages
 * to {global_name_server, N} and to pids go through the peers' out-queues,
 * connects are dials started on the I/O thread (never waited for), and
 * disconnects take the peer down as erlang:disconnect_node/1 does.
 *
 * Messages may be fed in by the I/O thread or by a user thread leading
 * the receive path (rx.c); actions always run on the I/O thread.  The
 * mutex guards the state against both and against edist_node_nodes()
 * readers on other threads.  Actions are
 * taken out under the mutex and carried out after it is released, since
 * a disconnect re-enters us with the node's nodedown.
 *
 * The two pids global names as its own (the server, sender of our
 * messages, and its locker) belong to two mailboxes opened here: their
 * ids are then never handed to another mailbox, and the rare message sent
 * straight to them (a locker's lock_set refusal to an old-style peer) is
 * drained into the state machine.
 */
#include <stdlib.h>
#include <string.h>

#include "edist/err.h"
#include "proto/global_int.h"
#include "rt/mesh.h"
#include "rt/node_int.h"

/* A SEND or REG_SEND control term: two pids, atoms. */
#define MESH_CTL_MAX 2200

struct rt_mesh {
    pthread_mutex_t mu;
    edist_gl *gl;
    edist_mbox *server, *locker; /* NULL once closed (mesh_stop) */
    uint32_t server_id, server_serial;
    /* Actions are carried out on the I/O thread only (dials and
     * disconnects touch libuv), but since the leader/follower receive path
     * (rx.c) a message may be routed here by a user thread: it posts this
     * command, at most one at a time (run_posted, under mu). */
    edist_loop_cmd run_cmd;
    int run_posted;
};

int mesh_init(edist_node *n, int no_connect_all)
{
    if (n->hidden)
        return 0;
    rt_mesh *m = calloc(1, sizeof *m);
    if (!m)
        return EDIST_ENOMEM;
    pthread_mutex_init(&m->mu, NULL);
    int rc = edist_mbox_open(n, &m->server);
    if (rc == 0)
        rc = edist_mbox_open(n, &m->locker);
    if (rc == 0) {
        m->server_id = m->server->proc.id;
        m->server_serial = m->server->proc.serial;
        edist_gl_opts o = {0};
        o.self = n->name;
        o.creation = n->creation;
        o.server_id = m->server->proc.id;
        o.server_serial = m->server->proc.serial;
        o.locker_id = m->locker->proc.id;
        o.locker_serial = m->locker->proc.serial;
        /* Tags only need to be unique per node incarnation; BEAM's start
         * near the smallest small integer, and so do ours. */
        o.first_tag = -(INT64_C(1) << 59) + (int64_t)(n->creation & 0xffff);
        o.no_connect_all = no_connect_all;
        rc = edist_gl_new(&o, &m->gl);
    }
    if (rc < 0) {
        edist_mbox_close(m->server);
        edist_mbox_close(m->locker);
        pthread_mutex_destroy(&m->mu);
        free(m);
        return rc;
    }
    n->mesh = m;
    return 0;
}

void mesh_stop(edist_node *n)
{
    rt_mesh *m = n->mesh;
    if (!m)
        return;
    pthread_mutex_lock(&m->mu);
    edist_mbox *s = m->server, *l = m->locker;
    m->server = m->locker = NULL;
    /* As BEAM's global on init:stop: the connections we are about to
     * close must not be reported as lost, or the others would drop each
     * other. */
    edist_gl_prepare_shutdown(m->gl);
    pthread_mutex_unlock(&m->mu);
    edist_mbox_close(s);
    edist_mbox_close(l);
}

void mesh_destroy(edist_node *n)
{
    rt_mesh *m = n->mesh;
    if (!m)
        return;
    mesh_stop(n);
    n->mesh = NULL;
    edist_gl_free(m->gl);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

/* ------------------------------------------------------------- actions */

static edist_term mesh_server_pid(edist_node *n, rt_mesh *m)
{
    return edist_mk_pid(edist_node_atom(n), m->server_id, m->server_serial,
                        n->creation);
}

/* The peer for node, dialling it when new (BEAM's auto-connect). */
static edist_peer *mesh_peer(edist_node *n, const char *name, size_t len,
                             int noconnect)
{
    if (noconnect) {
        edist_peer *p = peer_lookup(n, name, len);
        if (p) {
            pthread_mutex_lock(&p->mu);
            int up = p->state == PEER_UP;
            pthread_mutex_unlock(&p->mu);
            if (!up) {
                peer_unref(p);
                p = NULL;
            }
        }
        return p;
    }
    int created;
    edist_peer *p = peer_get_or_create(n, name, len, &created);
    if (p && created)
        link_dial(n, p);
    return p;
}

static void mesh_do(edist_node *n, rt_mesh *m, edist_gl_action *a)
{
    edist_atom me = edist_node_atom(n);
    if (a->node_len == me.len && memcmp(a->node, me.name, me.len) == 0)
        return; /* never to ourselves */
    uint8_t ctl[MESH_CTL_MAX];
    edist_etf_writer w;
    edist_etf_writer_init_fixed(&w, ctl, sizeof ctl, 0);
    switch (a->kind) {
    case EDIST_GL_SEND: {
        edist_term from = mesh_server_pid(n, m);
        edist_etf_put_tuple_header(&w, 4);
        edist_etf_put_int(&w, 6); /* REG_SEND */
        edist_etf_put_term(&w, &from);
        edist_etf_put_atom(&w, "", 0);
        edist_etf_put_atom_z(&w, "global_name_server");
        break;
    }
    case EDIST_GL_SEND_PID:
        edist_etf_put_tuple_header(&w, 3);
        edist_etf_put_int(&w, 2); /* SEND */
        edist_etf_put_atom(&w, "", 0);
        edist_etf_put_raw(&w, a->to, a->to_len);
        break;
    case EDIST_GL_CONNECT: {
        edist_peer *p = mesh_peer(n, a->node, a->node_len, 0);
        if (p)
            peer_unref(p);
        return;
    }
    case EDIST_GL_DISCONNECT: {
        edist_peer *p = peer_lookup(n, a->node, a->node_len);
        if (p) {
            peer_down(p, EDIST_ECLOSED,
                      "disconnected by global to prevent overlapping "
                      "partitions");
            peer_unref(p);
        }
        return;
    }
    default:
        return;
    }
    if (w.err || a->msg_len < 1)
        return;
    edist_peer *p = mesh_peer(n, a->node, a->node_len, a->noconnect);
    if (!p)
        return;
    /* The message without its version byte: peer_send frames it. */
    peer_send(p, ctl, w.len, a->msg + 1, a->msg_len - 1);
    peer_unref(p);
}

static void mesh_run(edist_node *n, rt_mesh *m);

static void mesh_run_cmd(edist_loop_cmd *c, void *ctx)
{
    (void)c;
    edist_node *n = ctx;
    rt_mesh *m = n->mesh;
    pthread_mutex_lock(&m->mu);
    m->run_posted = 0;
    pthread_mutex_unlock(&m->mu);
    mesh_run(n, m);
}

/* Carries out every action queued, outside the mutex (a disconnect comes
 * back to us as a nodedown), on the I/O thread. */
static void mesh_run(edist_node *n, rt_mesh *m)
{
    if (!edist_loop_on_thread(&n->loop)) {
        pthread_mutex_lock(&m->mu);
        if (!m->run_posted) {
            m->run_cmd.fn = mesh_run_cmd;
            /* A stopping loop refuses it: the actions die with the node. */
            m->run_posted = edist_loop_post(&n->loop, &m->run_cmd) == 0;
        }
        pthread_mutex_unlock(&m->mu);
        return;
    }
    for (;;) {
        pthread_mutex_lock(&m->mu);
        edist_gl_action *a = edist_gl_next(m->gl);
        pthread_mutex_unlock(&m->mu);
        if (!a)
            return;
        mesh_do(n, m, a);
        pthread_mutex_lock(&m->mu);
        edist_gl_action_free(m->gl, a);
        pthread_mutex_unlock(&m->mu);
    }
}

/* Feeds a decoded message to the state machine (mutex held). */
static void mesh_feed(rt_mesh *m, const edist_term *t)
{
    if (t->type != EDIST_TERM_TUPLE || t->v.tuple.arity < 1)
        return;
    edist_atom from = {"", 0};
    edist_gl_message(m->gl, from.name, from.len, t);
}

/* Messages sent straight to our pids: a locker's {lock_set, ...} is
 * handled as global does when it comes through the server. */
static void mesh_drain(rt_mesh *m, edist_mbox *mb)
{
    edist_msg *msg;
    while (mb && edist_recv(mb, &msg, 0) == 0) {
        edist_arena *a = edist_arena_new(NULL);
        edist_term t;
        if (a && edist_msg_term(msg, a, &t) == 0) {
            if (t.type == EDIST_TERM_TUPLE && t.v.tuple.arity >= 4 &&
                edist_term_is_atom(&t.v.tuple.elems[0], "lock_set")) {
                edist_term el[2] = {edist_mk_atom("$gen_cast", 9), t};
                edist_term c;
                c.type = EDIST_TERM_TUPLE;
                c.v.tuple.arity = 2;
                c.v.tuple.elems = el;
                mesh_feed(m, &c);
            } else {
                mesh_feed(m, &t);
            }
        }
        edist_arena_free(a);
        edist_msg_free(msg);
    }
}

static void mesh_pump(edist_node *n, rt_mesh *m)
{
    pthread_mutex_lock(&m->mu);
    mesh_drain(m, m->server);
    mesh_drain(m, m->locker);
    pthread_mutex_unlock(&m->mu);
    mesh_run(n, m);
}

/* --------------------------------------------------------------- events */

void mesh_peer_event(edist_node *n, const char *peer, size_t len, int up,
                     int visible)
{
    rt_mesh *m = n->mesh;
    if (!m)
        return;
    pthread_mutex_lock(&m->mu);
    if (up)
        edist_gl_peer_up(m->gl, peer, len, visible);
    else
        edist_gl_peer_down(m->gl, peer, len);
    pthread_mutex_unlock(&m->mu);
    mesh_pump(n, m);
}

int mesh_route(edist_node *n, const edist_dist_msg *dm, const uint8_t *payload)
{
    rt_mesh *m = n->mesh;
    if (!m)
        return 0; /* hidden: as a node without global, drop it */
    edist_arena *a;
    edist_term t;
    if (route_payload_term(dm, payload, &a, &t) == 0) {
        pthread_mutex_lock(&m->mu);
        /* What reached our pids came first. */
        mesh_drain(m, m->server);
        mesh_drain(m, m->locker);
        mesh_feed(m, &t);
        pthread_mutex_unlock(&m->mu);
    }
    edist_arena_free(a);
    mesh_pump(n, m);
    return 0;
}

int mesh_rex_features(edist_node *n, const edist_term *msg)
{
    if (msg->type != EDIST_TERM_TUPLE || msg->v.tuple.arity != 2 ||
        msg->v.tuple.elems[0].type != EDIST_TERM_PID ||
        !edist_term_is_atom(&msg->v.tuple.elems[1], "features_request"))
        return 0;
    /* rpc.erl: From ! {features_reply, node(), [erpc]} */
    const edist_term *to = &msg->v.tuple.elems[0];
    uint8_t ctl[MESH_CTL_MAX], body[MESH_CTL_MAX];
    edist_etf_writer w;
    edist_etf_writer_init_fixed(&w, ctl, sizeof ctl, 0);
    edist_etf_put_tuple_header(&w, 3);
    edist_etf_put_int(&w, 2); /* SEND */
    edist_etf_put_atom(&w, "", 0);
    edist_etf_put_term(&w, to);
    size_t ctl_len = w.len;
    int bad = w.err;
    edist_atom me = edist_node_atom(n);
    edist_etf_writer_init_fixed(&w, body, sizeof body, 0);
    edist_etf_put_tuple_header(&w, 3);
    edist_etf_put_atom_z(&w, "features_reply");
    edist_etf_put_atom(&w, me.name, me.len);
    edist_etf_put_list_header(&w, 1);
    edist_etf_put_atom_z(&w, "erpc");
    edist_etf_put_nil(&w);
    if (bad || w.err)
        return 1;
    edist_peer *p = peer_lookup(n, to->v.pid.node.name, to->v.pid.node.len);
    if (p) {
        peer_send(p, ctl, ctl_len, body, w.len);
        peer_unref(p);
    }
    return 1;
}

int mesh_is_known(edist_node *n, const char *peer, size_t len)
{
    rt_mesh *m = n->mesh;
    if (!m)
        return 0;
    pthread_mutex_lock(&m->mu);
    int k = edist_gl_is_known(m->gl, peer, len);
    pthread_mutex_unlock(&m->mu);
    return k;
}
