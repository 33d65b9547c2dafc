/*
 * global_out.c: what edist_gl asks the runtime to do, as a queue of
 * actions, and the encoding of the messages it sends.
 *
 * Messages are encoded once here (version byte included) and handed over
 * as bytes: the runtime frames them behind a REG_SEND or SEND control
 * message without looking inside.
 */
#include <string.h>

#include "core/mem.h"
#include "edist/err.h"
#include "proto/global_state.h"

/* A global message is small; the largest are exchange and new_nodes with
 * every name and node: 64 MiB bounds them far above any real cluster. */
#define GL_MSG_LIMIT ((size_t)64 << 20)

void gl_w_init(edist_gl *g, edist_etf_writer *w)
{
    edist_etf_writer_init_dynamic(w, GL_MSG_LIMIT, g->alloc, 0);
    edist_etf_put_version(w);
}

void gl_put_self(edist_gl *g, edist_etf_writer *w)
{
    edist_etf_put_atom(w, g->self, g->self_len);
}

void gl_put_server_pid(edist_gl *g, edist_etf_writer *w)
{
    edist_atom me = {g->self, g->self_len};
    edist_etf_put_pid(w, me, g->server_id, g->server_serial, g->creation);
}

void gl_put_locker_pid(edist_gl *g, edist_etf_writer *w)
{
    edist_atom me = {g->self, g->self_len};
    edist_etf_put_pid(w, me, g->locker_id, g->locker_serial, g->creation);
}

void gl_w_cast(edist_gl *g, edist_etf_writer *w)
{
    (void)g;
    edist_etf_put_tuple_header(w, 2);
    edist_etf_put_atom_z(w, "$gen_cast");
}

static edist_gl_action *gl_action_new(edist_gl *g, int kind, const char *node,
                                      size_t len)
{
    if (len > EDIST_NODE_NAME_MAX)
        return NULL;
    edist_gl_action *a = edist_mem_alloc(g->alloc, sizeof *a);
    if (!a)
        return NULL;
    memset(a, 0, sizeof *a);
    a->kind = kind;
    memcpy(a->node, node, len);
    a->node[len] = '\0';
    a->node_len = len;
    return a;
}

static void gl_push(edist_gl *g, edist_gl_action *a)
{
    if (g->tail)
        g->tail->next = a;
    else
        g->head = a;
    g->tail = a;
    g->nactions++;
}

/* Takes the writer's bytes into a; frees the writer either way. */
static int gl_take(edist_gl *g, edist_etf_writer *w, uint8_t **out, size_t *len)
{
    edist_bytes b;
    int rc = edist_etf_writer_take(w, &b);
    edist_etf_writer_free(w);
    if (rc < 0)
        return rc;
    (void)g;
    *out = b.data;
    *len = b.len;
    return 0;
}

int gl_emit_send(edist_gl *g, const char *node, size_t len, int noconnect,
                 edist_etf_writer *w)
{
    edist_gl_action *a = gl_action_new(g, EDIST_GL_SEND, node, len);
    if (!a) {
        edist_etf_writer_free(w);
        return EDIST_ENOMEM;
    }
    a->noconnect = noconnect;
    int rc = gl_take(g, w, &a->msg, &a->msg_len);
    if (rc < 0) {
        edist_mem_free(g->alloc, a);
        return rc;
    }
    gl_push(g, a);
    return 0;
}

int gl_emit_reply(edist_gl *g, const edist_term *from, const edist_term *tag,
                  edist_etf_writer *body)
{
    /* The reply {Tag, Reply}: Tag copied as it came (OTP 24+ sends the
     * improper list [alias | Ref]). */
    if (from->type != EDIST_TERM_PID ||
        edist_node_name_check(from->v.pid.node.name, from->v.pid.node.len) !=
            0) {
        edist_etf_writer_free(body);
        return EDIST_EBADMSG;
    }
    edist_etf_writer w;
    gl_w_init(g, &w);
    edist_etf_put_tuple_header(&w, 2);
    edist_etf_put_term(&w, tag);
    /* body holds the reply term without a version byte. */
    if (!body->err)
        edist_etf_put_raw(&w, body->buf, body->len);
    else
        w.err = body->err;
    edist_etf_writer_free(body);
    const edist_atom *n = &from->v.pid.node;
    edist_gl_action *a = gl_action_new(g, EDIST_GL_SEND_PID, n->name, n->len);
    int rc = a ? 0 : EDIST_ENOMEM;
    if (rc == 0)
        rc = gl_encode(g, from, &a->to, &a->to_len);
    if (rc == 0)
        rc = gl_take(g, &w, &a->msg, &a->msg_len);
    else
        edist_etf_writer_free(&w);
    if (rc < 0) {
        if (a) {
            edist_mem_free(g->alloc, a->to);
            edist_mem_free(g->alloc, a);
        }
        return rc;
    }
    gl_push(g, a);
    return 0;
}

int gl_emit_node(edist_gl *g, int kind, const char *node, size_t len)
{
    edist_gl_action *a = gl_action_new(g, kind, node, len);
    if (!a)
        return EDIST_ENOMEM;
    gl_push(g, a);
    return 0;
}

int gl_encode(edist_gl *g, const edist_term *t, uint8_t **out, size_t *len)
{
    edist_etf_writer w;
    edist_etf_writer_init_dynamic(&w, GL_MSG_LIMIT, g->alloc, 0);
    edist_etf_put_term(&w, t);
    return gl_take(g, &w, out, len);
}

edist_gl_action *edist_gl_next(edist_gl *g)
{
    edist_gl_action *a = g->head;
    if (!a)
        return NULL;
    g->head = a->next;
    if (!g->head)
        g->tail = NULL;
    a->next = NULL;
    g->nactions--;
    return a;
}

void edist_gl_action_free(edist_gl *g, edist_gl_action *a)
{
    if (!a)
        return;
    edist_mem_free(g->alloc, a->to);
    edist_mem_free(g->alloc, a->msg);
    edist_mem_free(g->alloc, a);
}

void gl_actions_free(edist_gl *g)
{
    edist_gl_action *a;
    while ((a = edist_gl_next(g)))
        edist_gl_action_free(g, a);
}

size_t edist_gl_pending_actions(const edist_gl *g)
{
    return g->nactions;
}
