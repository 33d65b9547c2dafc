/*
 * mbox.c: mailboxes (the public face of a process): opening, registering,
 * sending from any thread, receiving, and node up/down subscriptions.
 *
 * A send encodes the message once, in the caller's thread: a local
 * delivery encodes it into a buffer that becomes the receiver's message; a
 * remote one is encoded on the stack when small, else sized first and
 * encoded straight into the peer's out-queue (see mbox_prepare).
 */
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"
#include "core/wire.h"
#include "edist/err.h"
#include "rt/node_int.h"

#define MBOX_CTL_MAX 4096

static void mbox_release(edist_proc *pr)
{
    edist_mbox *mb = (edist_mbox *)pr;
    edist_mqueue_destroy(&mb->q);
    edist_mem_free(mb->node->alloc, mb);
}

static void mbox_on_drain(void *ud)
{
    edist_node *n = ud;
    uv_async_send(&n->resume_async);
}

int edist_mbox_open(edist_node *n, edist_mbox **out)
{
    if (!n || !out)
        return EDIST_EINVAL;
    if (n->stopping)
        return EDIST_ESHUTDOWN;
    edist_mbox *mb = edist_mem_alloc(n->alloc, sizeof *mb);
    if (!mb)
        return EDIST_ENOMEM;
    memset(mb, 0, sizeof *mb);
    mb->node = n;
    mb->proc.release = mbox_release;
    int rc = edist_mqueue_init(&mb->q, n->max_mailbox);
    if (rc < 0) {
        edist_mem_free(n->alloc, mb);
        return rc;
    }
    mb->q.on_drain = mbox_on_drain;
    mb->q.drain_ud = n;
    rc = edist_procs_add(&n->procs, &mb->proc);
    if (rc < 0) {
        edist_mqueue_destroy(&mb->q);
        edist_mem_free(n->alloc, mb);
        return rc;
    }
    *out = mb;
    return 0;
}

/* edist_mbox_close() is in signals.c: closing ends links and monitors. */

edist_mbox *node_local_mbox(edist_node *n, const edist_term *pid)
{
    if (pid->type != EDIST_TERM_PID || !node_is_local(n, pid->v.pid.node))
        return NULL;
    /* A pid of an earlier incarnation of this node names nobody. */
    if (pid->v.pid.creation != n->creation)
        return NULL;
    return (edist_mbox *)edist_procs_by_pid(&n->procs, pid->v.pid.id,
                                            pid->v.pid.serial);
}

int edist_mbox_register(edist_mbox *mb, const char *name)
{
    if (!mb || !name)
        return EDIST_EINVAL;
    return edist_procs_register(&mb->node->procs, &mb->proc, name,
                                strlen(name));
}

edist_term edist_mbox_pid(const edist_mbox *mb)
{
    return edist_mk_pid(edist_node_atom(mb->node), mb->proc.id, mb->proc.serial,
                        mb->node->creation);
}

int edist_mbox_fd(const edist_mbox *mb)
{
    /* The queue creates its eventfd on first request: a mailbox that is
     * never polled pays no system call per message for it.  The queue is
     * the mailbox's own, so the const is shallow. */
    return edist_mqueue_fd((edist_mqueue *)&mb->q);
}

/* A batch pushes after this many messages even within one read, so the
 * receiver starts on the first ones while the I/O thread routes the rest. */
#define MBOX_BATCH_MAX 64

/* The batch of the calling thread: the I/O thread's or the leader's;
 * NULL on any other thread. */
static mbox_batch *mbox_batch_of(edist_node *n)
{
    if (edist_loop_on_thread(&n->loop))
        return &n->deliver;
    return node_on_io(n) ? &n->ldeliver : NULL;
}

static int mbox_batch_flush(mbox_batch *b)
{
    edist_mbox *mb = b->mb;
    if (!mb)
        return 0;
    int rc =
        edist_mqueue_push_chain(&mb->q, b->head, b->tail, b->count, b->bytes);
    if (rc < 0) { /* closed meanwhile: as in Erlang, dropped */
        edist_msg *m = b->head;
        while (m) {
            edist_msg *next = m->next;
            edist_msg_free(m);
            m = next;
        }
    }
    edist_procs_put(&mb->proc);
    b->mb = NULL;
    b->head = b->tail = NULL;
    b->count = b->bytes = 0;
    return rc == 1;
}

void mbox_batch_begin(edist_node *n)
{
    mbox_batch *b = mbox_batch_of(n);
    if (b)
        b->active = 1;
}

int mbox_batch_end(edist_node *n)
{
    mbox_batch *b = mbox_batch_of(n);
    if (!b)
        return 0;
    int over = mbox_batch_flush(b) | b->over;
    b->active = 0;
    b->over = 0;
    return over;
}

/* A message for mb holding term, with the version byte.  NULL when out
 * of memory. */
static edist_msg *mbox_msg_of(edist_mbox *mb, const uint8_t *term, size_t len,
                              int has_version)
{
    size_t total = has_version ? len : len + 1;
    edist_msg *m = msgpool_msg(mb->node->msgpool, total);
    if (!m)
        return NULL;
    if (!has_version)
        m->data[0] = EDIST_ETF_VERSION;
    memcpy(m->data + (has_version ? 0 : 1), term, len);
    return m;
}

static int mbox_push(edist_mbox *mb, edist_msg *m)
{
    int rc = edist_mqueue_push(&mb->q, m);
    if (rc < 0)
        edist_mem_free(m->alloc, m);
    return rc;
}

int mbox_push_now(edist_mbox *mb, const uint8_t *term, size_t len)
{
    edist_msg *m = mbox_msg_of(mb, term, len, 1);
    if (!m)
        return EDIST_ENOMEM;
    /* The batch stays open; mbox_batch_end reports the cap. */
    mbox_batch *b = mbox_batch_of(mb->node);
    if (b && b->active)
        b->over |= mbox_batch_flush(b);
    return mbox_push(mb, m);
}

int mbox_deliver_bytes(edist_mbox *mb, const uint8_t *term, size_t len,
                       int has_version)
{
    edist_node *n = mb->node;
    edist_msg *m = mbox_msg_of(mb, term, len, has_version);
    if (!m)
        return EDIST_ENOMEM;
    /* Only the thread that owns a batch may touch it. */
    mbox_batch *b = mbox_batch_of(n);
    if (b && b->active) {
        int over = 0;
        if (b->mb != mb) {
            over = mbox_batch_flush(b);
            edist_procs_get(&mb->proc);
            b->mb = mb;
        }
        m->next = NULL;
        if (b->tail)
            b->tail->next = m;
        else
            b->head = m;
        b->tail = m;
        b->bytes += m->len;
        if (++b->count >= MBOX_BATCH_MAX)
            over |= mbox_batch_flush(b);
        return over;
    }
    return mbox_push(mb, m);
}

/* A receiver that waits reads the sockets itself when it can become the
 * node's leader (rx.c): no hand-off from the I/O thread. */
static edist_mq_leader mbox_leader(edist_node *n)
{
    edist_mq_leader ld = {rx_try_lead, rx_lead_wait, n, n->rx.efd};
    return ld;
}

int edist_recv(edist_mbox *mb, edist_msg **out, int timeout_ms)
{
    if (!mb || !out)
        return EDIST_EINVAL;
    edist_mq_leader ld = mbox_leader(mb->node);
    int rc = edist_mqueue_pop_led(&mb->q, out, 1, timeout_ms, &ld);
    return rc < 0 ? rc : 0;
}

int mbox_recv_by(edist_mbox *mb, edist_msg **out, int timeout_ms,
                 edist_mq_deadline *dl)
{
    edist_mq_leader ld = mbox_leader(mb->node);
    int rc = edist_mqueue_pop_by(&mb->q, out, 1, timeout_ms, dl, &ld);
    return rc < 0 ? rc : 0;
}

int edist_recv_many(edist_mbox *mb, edist_msg **out, size_t max, int timeout_ms)
{
    if (!mb || !out || max == 0)
        return EDIST_EINVAL;
    edist_mq_leader ld = mbox_leader(mb->node);
    return edist_mqueue_pop_led(&mb->q, out, max, timeout_ms, &ld);
}

const uint8_t *edist_msg_data(const edist_msg *msg, size_t *len)
{
    *len = msg->len;
    return msg->data;
}

int edist_msg_term(const edist_msg *msg, edist_arena *a, edist_term *out)
{
    return edist_etf_decode(a, msg->data, msg->len, NULL, out, NULL);
}

void edist_msg_free(edist_msg *msg)
{
    if (msg)
        msg->alloc->free(msg, msg->alloc->ud);
}

/* ---- sending */

typedef struct mbox_dial_cmd {
    edist_loop_cmd cmd;
    edist_peer *peer;
} mbox_dial_cmd;

static void mbox_dial_run(edist_loop_cmd *c, void *ctx)
{
    mbox_dial_cmd *d = (mbox_dial_cmd *)c;
    link_dial(ctx, d->peer);
    peer_unref(d->peer);
    free(d);
}

/* The caller of edist_connect() waits anyway: it does the EPMD lookup
 * itself, saving the trip through libuv's pool (two thread hops) that a
 * dial started by a send needs so that the sender does not block. */
static void mbox_resolve(edist_node *n, edist_peer *p, int timeout_ms)
{
    const char *at = memchr(p->name, '@', p->name_len);
    size_t alen = at ? (size_t)(at - p->name) : 0;
    char alive[256], host[256];
    if (!at || alen == 0 || alen >= sizeof alive ||
        p->name_len - alen - 1 >= sizeof host)
        return; /* link_dial reports the bad name */
    memcpy(alive, p->name, alen);
    alive[alen] = '\0';
    memcpy(host, at + 1, p->name_len - alen - 1);
    host[p->name_len - alen - 1] = '\0';
    struct sockaddr_storage addr;
    socklen_t addrlen = 0;
    edist_conn_error e = {0};
    memset(&addr, 0, sizeof addr);
    if (timeout_ms < 0 || timeout_ms > EDIST_HS_SETUP_TIMEOUT_MS)
        timeout_ms = EDIST_HS_SETUP_TIMEOUT_MS;
    link_resolve(host, alive, n->epmd_port, timeout_ms, &addr, &addrlen, &e);
    pthread_mutex_lock(&p->mu);
    p->pre_addr = addr;
    p->pre_addrlen = addrlen;
    p->pre_err = e;
    p->pre_resolved = 1;
    pthread_mutex_unlock(&p->mu);
}

/* Finds or creates the peer for node name, starting a dial when new.
 * resolve_ms > 0: the caller may block that long for the EPMD lookup. */
static edist_peer *mbox_peer(edist_node *n, const char *name, size_t len,
                             int resolve_ms)
{
    int created;
    edist_peer *p = peer_get_or_create(n, name, len, &created);
    if (p && created && resolve_ms > 0 && !edist_loop_on_thread(&n->loop))
        mbox_resolve(n, p, resolve_ms);
    if (p && created) {
        if (edist_loop_on_thread(&n->loop)) {
            link_dial(n, p);
            return p;
        }
        mbox_dial_cmd *d = malloc(sizeof *d);
        if (d) {
            d->cmd.fn = mbox_dial_run;
            d->peer = p;
            peer_ref(p);
            if (edist_loop_post(&n->loop, &d->cmd) == 0)
                return p;
            peer_unref(p);
            free(d);
        }
        peer_down(p, EDIST_ESHUTDOWN, "cannot start the connection");
    }
    return p;
}

static int mbox_ctl_send(uint8_t *ctl, size_t cap, const edist_term *to,
                         size_t *len);

static int mbox_encode(const edist_term *msg, edist_etf_writer *w)
{
    edist_etf_writer_init_dynamic(w, 0, NULL, 0);
    edist_etf_put_version(w);
    return edist_etf_put_term(w, msg);
}

/* Encodes msg and delivers it to the local process pr (a reference that
 * is dropped here).  A NULL pr is a process that does not exist: the
 * message is dropped, as in Erlang, once it was found encodable. */
static int mbox_send_local(edist_proc *pr, const edist_term *msg)
{
    edist_etf_writer w;
    int rc = mbox_encode(msg, &w);
    if (rc == 0 && pr) {
        rc = mbox_deliver_bytes((edist_mbox *)pr, w.buf, w.len, 1);
        rc = rc == EDIST_ENOMEM ? rc : 0;
    }
    edist_etf_writer_free(&w);
    if (pr)
        edist_procs_put(pr);
    return rc;
}

/* A remote message is encoded before any connection is started, so that
 * a term no encoding can carry fails without side effects.  One that fits
 * is encoded once on the stack (*len > 0) and copied into the out-queue:
 * cheaper than sizing the tree and then encoding it (two walks).  A bigger
 * one is only sized here (*size) and later encoded straight into the
 * out-queue, which saves a buffer and a copy of the bulk. */
#define MBOX_STACK_ENCODE 512

static int mbox_prepare(const edist_term *msg, uint8_t *buf, size_t cap,
                        size_t *len, size_t *size)
{
    edist_etf_writer w;
    edist_etf_writer_init_fixed(&w, buf, cap, 0);
    edist_etf_put_version(&w);
    int rc = edist_etf_put_term(&w, msg);
    *len = *size = 0;
    if (rc == 0) {
        *len = w.len;
        return 0;
    }
    if (rc != EDIST_ETOOBIG)
        return rc;
    return edist_etf_encoded_size(msg, NULL, size);
}

/* Queues msg (prepared by mbox_prepare) after ctl to peer p. */
static int mbox_queue(edist_peer *p, const uint8_t *ctl, size_t ctl_len,
                      const edist_term *msg, const uint8_t *buf, size_t len,
                      size_t size)
{
    if (len)
        return peer_send(p, ctl, ctl_len, buf + 1, len - 1);
    return peer_send_term(p, ctl, ctl_len, msg, size);
}

/* SEND {2, '', To}: the control term of a send to a remote pid. */
static int mbox_ctl_send(uint8_t *ctl, size_t cap, const edist_term *to,
                         size_t *len)
{
    edist_etf_writer w;
    edist_etf_writer_init_fixed(&w, ctl, cap, 0);
    edist_etf_put_tuple_header(&w, 3);
    edist_etf_put_int(&w, 2); /* SEND */
    edist_etf_put_atom(&w, "", 0);
    if (edist_etf_put_pid(&w, to->v.pid.node, to->v.pid.id, to->v.pid.serial,
                          to->v.pid.creation) < 0)
        return w.err;
    *len = w.len;
    return 0;
}

/* Sends ctl (already encoded) and msg (prepared by mbox_prepare into buf)
 * from mailbox from to peer p (the caller's reference).  Marks that an
 * answer may come over the socket (rx.c). */
static int mbox_send_peer(edist_mbox *from, edist_peer *p, const uint8_t *ctl,
                          size_t ctl_len, const edist_term *msg,
                          const uint8_t *buf, size_t blen, size_t size)
{
    int rc = mbox_queue(p, ctl, ctl_len, msg, buf, blen, size);
    if (rc == 0)
        atomic_store_explicit(&from->q.asked, 1, memory_order_relaxed);
    return rc;
}

/* Sends ctl (already encoded) and msg from mailbox from to the remote node
 * (name, len): msg is encoded before any connection starts, then queued.
 * nopeer is the code when no peer can be made (the node is not stopping). */
static int mbox_send_remote(edist_mbox *from, const char *name, size_t len,
                            const uint8_t *ctl, size_t ctl_len,
                            const edist_term *msg, int nopeer)
{
    edist_node *n = from->node;
    uint8_t buf[MBOX_STACK_ENCODE];
    size_t blen, size;
    int rc = mbox_prepare(msg, buf, sizeof buf, &blen, &size);
    if (rc < 0)
        return rc;
    edist_peer *p = mbox_peer(n, name, len, 0);
    if (!p)
        return n->stopping ? EDIST_ESHUTDOWN : nopeer;
    rc = mbox_send_peer(from, p, ctl, ctl_len, msg, buf, blen, size);
    peer_unref(p);
    return rc;
}

/* REG_SEND {6, From, '', Name}: the control term of a send to a name
 * registered on another node.  Returns its length, or an encoding error. */
static int mbox_ctl_reg_send(uint8_t *ctl, size_t cap, edist_mbox *from,
                             const char *name, size_t nlen, size_t *len)
{
    edist_etf_writer cw;
    edist_term self = edist_mbox_pid(from);
    edist_etf_writer_init_fixed(&cw, ctl, cap, 0);
    edist_etf_put_tuple_header(&cw, 4);
    edist_etf_put_int(&cw, 6); /* REG_SEND */
    edist_etf_put_pid(&cw, self.v.pid.node, self.v.pid.id, self.v.pid.serial,
                      self.v.pid.creation);
    edist_etf_put_atom(&cw, "", 0);
    int rc = edist_etf_put_atom(&cw, name, nlen);
    *len = cw.len;
    return rc;
}

/* A REG_SEND to name over p of msg, prepared by mbox_prepare or encoded
 * by the caller (buf, blen with its version byte; msg may then be NULL). */
static int mbox_send_named_prepared(edist_mbox *from, edist_peer *p,
                                    const char *name, const edist_term *msg,
                                    const uint8_t *buf, size_t blen,
                                    size_t size)
{
    uint8_t ctl[MBOX_CTL_MAX];
    size_t ctl_len;
    int rc =
        mbox_ctl_reg_send(ctl, sizeof ctl, from, name, strlen(name), &ctl_len);
    if (rc < 0)
        return rc;
    return mbox_send_peer(from, p, ctl, ctl_len, msg, buf, blen, size);
}

int mbox_send_named_peer(edist_mbox *from, edist_peer *p, const char *name,
                         const edist_term *msg)
{
    uint8_t buf[MBOX_STACK_ENCODE];
    size_t blen = 0, size = 0;
    int rc = mbox_prepare(msg, buf, sizeof buf, &blen, &size);
    if (rc < 0)
        return rc;
    return mbox_send_named_prepared(from, p, name, msg, buf, blen, size);
}

int mbox_send_named_bytes(edist_mbox *from, edist_peer *p, const char *name,
                          const uint8_t *msg, size_t len)
{
    if (len < 2)
        return EDIST_EINVAL;
    return mbox_send_named_prepared(from, p, name, NULL, msg, len, 0);
}

int edist_send(edist_mbox *from, const edist_term *to, const edist_term *msg)
{
    if (!from || !to || !msg)
        return EDIST_EINVAL;
    if (to->type != EDIST_TERM_PID)
        return EDIST_ETYPE;
    edist_node *n = from->node;
    int rc;
    if (node_is_local(n, to->v.pid.node)) {
        edist_mbox *mb = node_local_mbox(n, to);
        return mbox_send_local(mb ? &mb->proc : NULL, msg);
    }
    uint8_t ctl[MBOX_CTL_MAX];
    size_t ctl_len = 0;
    if ((rc = mbox_ctl_send(ctl, sizeof ctl, to, &ctl_len)) < 0)
        return rc;
    return mbox_send_remote(from, to->v.pid.node.name, to->v.pid.node.len, ctl,
                            ctl_len, msg, EDIST_ENOMEM);
}

int edist_send_named(edist_mbox *from, const char *name, const char *node,
                     const edist_term *msg)
{
    if (!from || !name || !msg)
        return EDIST_EINVAL;
    edist_node *n = from->node;
    size_t nlen = strlen(name);
    int rc;
    edist_atom peer = {node, node ? strlen(node) : 0};
    if (!node || node_is_local(n, peer))
        return mbox_send_local(edist_procs_by_name(&n->procs, name, nlen), msg);
    uint8_t ctl[MBOX_CTL_MAX];
    size_t ctl_len;
    if ((rc = mbox_ctl_reg_send(ctl, sizeof ctl, from, name, nlen, &ctl_len)) <
        0)
        return rc;
    return mbox_send_remote(from, peer.name, peer.len, ctl, ctl_len, msg,
                            EDIST_EBADNAME);
}

int mbox_send_ctl(edist_mbox *from, const char *node, const uint8_t *ctl,
                  size_t ctl_len, const edist_term *payload)
{
    return mbox_send_remote(from, node, strlen(node), ctl, ctl_len, payload,
                            EDIST_ENOMEM);
}

/* ---- connections */

int edist_connect(edist_node *n, const char *peer, int timeout_ms,
                  edist_conn_error *why)
{
    if (why) {
        why->code = 0;
        why->reason[0] = '\0';
    }
    if (!n || !peer)
        return EDIST_EINVAL;
    size_t len = strlen(peer);
    edist_atom a = {peer, len};
    if (node_is_local(n, a))
        return 0;
    if (edist_node_name_check(peer, len) != 0) {
        if (why) {
            why->code = EDIST_EBADNAME;
            snprintf(why->reason, sizeof why->reason,
                     "bad node name '%s': expected name@host", peer);
        }
        return EDIST_EBADNAME;
    }
    edist_peer *p = mbox_peer(n, peer, len, timeout_ms);
    if (!p)
        return n->stopping ? EDIST_ESHUTDOWN : EDIST_ENOMEM;
    struct timespec deadline;
    if (timeout_ms > 0)
        node_deadline(&deadline, timeout_ms);
    int rc = 0;
    pthread_mutex_lock(&p->mu);
    while (p->state == PEER_PENDING) {
        if (timeout_ms == 0)
            break;
        if (timeout_ms < 0)
            pthread_cond_wait(&p->cv, &p->mu);
        else if (pthread_cond_timedwait(&p->cv, &p->mu, &deadline) != 0)
            break;
    }
    if (p->state == PEER_PENDING) {
        rc = EDIST_ETIMEDOUT;
        if (why) {
            why->code = rc;
            snprintf(why->reason, sizeof why->reason,
                     "no connection to %s within %d ms", peer, timeout_ms);
        }
    } else if (p->state == PEER_DOWN) {
        rc = p->err.code ? p->err.code : EDIST_ECLOSED;
        if (why)
            *why = p->err;
    }
    pthread_mutex_unlock(&p->mu);
    peer_unref(p);
    return rc;
}

static int mbox_disconnect_run(void *arg, void *ctx)
{
    edist_node *n = ctx;
    const char *name = arg;
    edist_peer *p = peer_lookup(n, name, strlen(name));
    if (!p)
        return EDIST_ENOCONN;
    peer_down(p, EDIST_ECLOSED, "disconnected");
    peer_unref(p);
    return 0;
}

int edist_disconnect(edist_node *n, const char *peer)
{
    if (!n || !peer)
        return EDIST_EINVAL;
    return edist_loop_call(&n->loop, mbox_disconnect_run, (void *)peer);
}

/* ---- node up/down subscriptions */

int edist_monitor_nodes(edist_mbox *mb, int on)
{
    edist_node *n = mb->node;
    uint8_t key[8];
    edist_put32(key, mb->proc.id);
    edist_put32(key + 4, mb->proc.serial);
    int rc = 0;
    pthread_mutex_lock(&n->mon_mu);
    if (on && !mb->monitor_nodes) {
        rc = edist_hmap_put(&n->monitors, key, sizeof key, mb);
        if (rc == 0) {
            edist_procs_get(&mb->proc);
            mb->monitor_nodes = 1;
        }
    } else if (!on && mb->monitor_nodes) {
        edist_hmap_del(&n->monitors, key, sizeof key);
        mb->monitor_nodes = 0;
        pthread_mutex_unlock(&n->mon_mu);
        edist_procs_put(&mb->proc);
        return 0;
    }
    pthread_mutex_unlock(&n->mon_mu);
    return rc;
}

void node_notify_nodes(edist_node *n, const char *peer, size_t len, int up)
{
    uint8_t buf[1100];
    edist_etf_writer w;
    edist_etf_writer_init_fixed(&w, buf, sizeof buf, 0);
    edist_etf_put_version(&w);
    edist_etf_put_tuple_header(&w, 2);
    edist_etf_put_atom_z(&w, up ? "nodeup" : "nodedown");
    if (edist_etf_put_atom(&w, peer, len) < 0)
        return;
    pthread_mutex_lock(&n->mon_mu);
    for (size_t i = 0; i < n->monitors.cap; i++) {
        edist_hmap_slot *s = &n->monitors.slots[i];
        if (s->value)
            mbox_deliver_bytes(s->value, buf, w.len, 1);
    }
    pthread_mutex_unlock(&n->mon_mu);
    /* Links, monitors and monitor_node over this connection, the
     * monitor_nodes/2 subscriptions and the rpc calls waiting on it. */
    if (up) {
        sig_node_up(n, peer, len);
    } else {
        sig_conn_down(n, peer, len);
        call_node_down(n, peer, len, buf, w.len);
    }
}
