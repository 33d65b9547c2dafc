/*
 * route.c: what the I/O thread does with each control message a peer
 * sends (protocol.md 3.5, 3.6): messages go to mailboxes by pid or
 * registered name without decoding their payload; net_kernel's is_auth
 * (net_adm:ping) is answered here; requests for processes that do not
 * exist get the answers BEAM gives (noproc), so a remote caller never
 * hangs.
 *
 * Control terms are read with the streaming reader: routing allocates
 * nothing but the delivered message itself.
 */
#include <string.h>

#include "edist/err.h"
#include "rt/node_int.h"

enum {
    OP_LINK = 1,
    OP_SEND = 2,
    OP_EXIT = 3,
    OP_UNLINK = 4,
    OP_REG_SEND = 6,
    OP_GROUP_LEADER = 7,
    OP_EXIT2 = 8,
    OP_SEND_TT = 12,
    OP_EXIT_TT = 13,
    OP_REG_SEND_TT = 16,
    OP_EXIT2_TT = 18,
    OP_MONITOR_P = 19,
    OP_DEMONITOR_P = 20,
    OP_MONITOR_P_EXIT = 21,
    OP_SEND_SENDER = 22,
    OP_SEND_SENDER_TT = 23,
    OP_ALIAS_SEND = 33,
    OP_ALIAS_SEND_TT = 34,
    OP_UNLINK_ID = 35,
    OP_UNLINK_ID_ACK = 36
};

/* A control term is small: a tuple of a few pids, atoms and references.
 * 4 KiB holds the largest (two pids with 1020-byte node names). */
#define ROUTE_CTL_MAX 4096

/* dist.h's atom refs and the codec's atoms are the same pair. */
_Static_assert(sizeof(edist_atom_ref) == sizeof(edist_atom),
               "edist_atom_ref and edist_atom must share a layout");

static int route_deliver(edist_mbox *mb, const edist_dist_msg *m,
                         const uint8_t *payload)
{
    if (!mb)
        return 0; /* as in Erlang: dropped */
    size_t len = (size_t)(m->data + m->len - payload);
    int rc = mbox_deliver_bytes(mb, payload, len, m->versioned);
    edist_procs_put(&mb->proc);
    return rc == 1 ? 1 : 0;
}

/* net_kernel: {'$gen_call', {From, Tag}, {is_auth, Node}} -> {Tag, yes}.
 * Tag is copied verbatim: OTP 24+ sends the improper list [alias | Ref]
 * and a rebuilt proper list would make ping answer pang. */
static int route_net_kernel(edist_node *n, edist_peer *p,
                            const edist_dist_msg *m, const uint8_t *payload)
{
    (void)n;
    edist_etf_reader r;
    size_t len = (size_t)(m->data + m->len - payload), arity;
    edist_etf_reader_init(&r, payload, len, (const edist_atom *)m->atoms,
                          m->natoms);
    if (m->versioned && edist_etf_read_version(&r) < 0)
        return 0;
    const uint8_t *from, *tag;
    size_t from_len, tag_len;
    if (edist_etf_read_tuple_header(&r, &arity) < 0 || arity != 3 ||
        edist_etf_read_atom_eq(&r, "$gen_call") != 1 ||
        edist_etf_read_tuple_header(&r, &arity) < 0 || arity != 2 ||
        edist_etf_read_raw(&r, &from, &from_len) < 0 ||
        edist_etf_read_raw(&r, &tag, &tag_len) < 0 ||
        edist_etf_read_tuple_header(&r, &arity) < 0 || arity != 2 ||
        edist_etf_read_atom_eq(&r, "is_auth") != 1)
        return 0; /* other requests: net_kernel ignores what it does not
                     know, and so do we */
    uint8_t ctl[ROUTE_CTL_MAX], msg[ROUTE_CTL_MAX];
    edist_etf_writer w;
    edist_etf_writer_init_fixed(&w, ctl, sizeof ctl, 0);
    edist_etf_put_tuple_header(&w, 3);
    edist_etf_put_int(&w, OP_SEND);
    edist_etf_put_atom(&w, "", 0);
    edist_etf_put_raw(&w, from, from_len);
    size_t ctl_len = w.len;
    int bad = w.err;
    edist_etf_writer_init_fixed(&w, msg, sizeof msg, 0);
    edist_etf_put_tuple_header(&w, 2);
    edist_etf_put_raw(&w, tag, tag_len);
    edist_etf_put_atom_z(&w, "yes");
    if (bad || w.err)
        return 0;
    peer_send(p, ctl, ctl_len, msg, w.len);
    return 0;
}

/* The built-in processes a node answers for without a mailbox. */
static int route_builtin(const edist_atom *name)
{
    return name->len == 10 && memcmp(name->name, "net_kernel", 10) == 0;
}

/* rex (rpc's server, the path of erl_call, ei_rpc and edist_rpc): served
 * by the rpc server with the functions the program registered, unless a
 * mailbox took the name. */
int route_payload_term(const edist_dist_msg *m, const uint8_t *payload,
                       edist_arena **a, edist_term *t)
{
    edist_etf_reader r;
    size_t len = (size_t)(m->data + m->len - payload);
    edist_etf_reader_init(&r, payload, len, (const edist_atom *)m->atoms,
                          m->natoms);
    *a = NULL;
    int rc = m->versioned ? edist_etf_read_version(&r) : 0;
    if (rc < 0)
        return rc;
    if (!(*a = edist_arena_new(NULL)))
        return EDIST_ENOMEM;
    return edist_etf_read_term(&r, *a, NULL, t);
}

static int route_rex(edist_node *n, const edist_dist_msg *m,
                     const uint8_t *payload)
{
    edist_arena *a;
    edist_term t;
    if (route_payload_term(m, payload, &a, &t) == 0 &&
        !mesh_rex_features(n, &t))
        rpc_rex_request(n, &t);
    edist_arena_free(a);
    return 0;
}

static int route_reg_send(edist_node *n, edist_peer *p, const edist_dist_msg *m,
                          edist_etf_reader *r, int tt)
{
    edist_atom name;
    if (edist_etf_skip(r, 0) < 0 || /* From */
        edist_etf_skip(r, 0) < 0 || /* Unused */
        edist_etf_read_atom(r, &name) < 0 || (tt && edist_etf_skip(r, 0) < 0))
        return EDIST_EBADMSG;
    edist_mbox *mb =
        (edist_mbox *)edist_procs_by_name(&n->procs, name.name, name.len);
    if (mb)
        return route_deliver(mb, m, r->p);
    if (route_builtin(&name))
        return route_net_kernel(n, p, m, r->p);
    if (name.len == 3 && memcmp(name.name, "rex", 3) == 0)
        return route_rex(n, m, r->p);
    if (name.len == 18 && memcmp(name.name, "global_name_server", 18) == 0)
        return mesh_route(n, m, r->p);
    return 0;
}

/* The group leader edist_erpc gives the processes it spawns (call.c): an
 * I/O request {io_request, From, ReplyAs, Request} goes on to `user` on
 * the node it came from, which prints it and answers From directly.  So
 * io:format in a function called by edist_erpc prints on that node's
 * console, as with rex's `user` (erl_call, ei_rpc), and never waits for a
 * reply we could not give: the request may need the group leader to run
 * Erlang code (io_lib:format).  Anything else sent there is dropped. */
static int route_io_request(edist_node *n, edist_peer *p,
                            const edist_dist_msg *m, const uint8_t *payload)
{
    /* Decoded and encoded again, not forwarded as bytes: the payload may
     * use this connection's atom cache. */
    edist_arena *a;
    edist_term t;
    size_t size;
    if (route_payload_term(m, payload, &a, &t) == 0 &&
        t.type == EDIST_TERM_TUPLE && t.v.tuple.arity == 4 &&
        edist_term_is_atom(&t.v.tuple.elems[0], "io_request") &&
        t.v.tuple.elems[1].type == EDIST_TERM_PID &&
        edist_etf_encoded_size(&t, NULL, &size) == 0) {
        uint8_t ctl[ROUTE_CTL_MAX];
        edist_etf_writer w;
        edist_term self = node_io_proxy_pid(n);
        edist_etf_writer_init_fixed(&w, ctl, sizeof ctl, 0);
        edist_etf_put_tuple_header(&w, 4);
        edist_etf_put_int(&w, OP_REG_SEND);
        edist_etf_put_term(&w, &self);
        edist_etf_put_atom(&w, "", 0);
        edist_etf_put_atom_z(&w, "user");
        if (!w.err)
            peer_send_term(p, ctl, w.len, &t, size);
    }
    edist_arena_free(a);
    return 0;
}

static int route_send(edist_node *n, edist_peer *p, const edist_dist_msg *m,
                      edist_etf_reader *r, int tt)
{
    edist_term to;
    if (edist_etf_skip(r, 0) < 0 || /* Unused or From */
        edist_etf_read_pid(r, &to) < 0 || (tt && edist_etf_skip(r, 0) < 0))
        return EDIST_EBADMSG;
    edist_mbox *mb = node_local_mbox(n, &to);
    if (mb && mb->proc.id == n->io_proxy_id &&
        mb->proc.serial == n->io_proxy_serial) {
        edist_procs_put(&mb->proc);
        return route_io_request(n, p, m, r->p);
    }
    return route_deliver(mb, m, r->p);
}

/* ALIAS_SEND {33, From, Alias} + Message: to the mailbox the alias (a
 * reference edist_call made) belongs to; an inactive alias drops it, as
 * on BEAM. */
static int route_alias_send(edist_node *n, const edist_dist_msg *m,
                            edist_etf_reader *r, int tt)
{
    edist_term alias;
    if (edist_etf_skip(r, 0) < 0 || /* From */
        edist_etf_read_ref(r, &alias) < 0 || (tt && edist_etf_skip(r, 0) < 0))
        return EDIST_EBADMSG;
    return route_deliver(sig_alias_lookup(n, &alias), m, r->p);
}

int route_message(edist_node *n, edist_peer *p, const edist_dist_msg *m)
{
    edist_etf_reader r;
    edist_etf_reader_init(&r, m->data, m->len, (const edist_atom *)m->atoms,
                          m->natoms);
    size_t arity;
    int64_t op;
    if ((m->versioned && edist_etf_read_version(&r) < 0) ||
        edist_etf_read_tuple_header(&r, &arity) < 0 || arity < 1 ||
        edist_etf_read_int64(&r, &op) < 0)
        return EDIST_EBADMSG;
    switch (op) {
    case OP_SEND:
        return route_send(n, p, m, &r, 0);
    case OP_SEND_TT:
        return route_send(n, p, m, &r, 1);
    case OP_SEND_SENDER:
        return route_send(n, p, m, &r, 0);
    case OP_SEND_SENDER_TT:
        return route_send(n, p, m, &r, 1);
    case OP_REG_SEND:
        return route_reg_send(n, p, m, &r, 0);
    case OP_REG_SEND_TT:
        return route_reg_send(n, p, m, &r, 1);
    case OP_ALIAS_SEND:
        return route_alias_send(n, m, &r, 0);
    case OP_ALIAS_SEND_TT:
        return route_alias_send(n, m, &r, 1);
    case OP_GROUP_LEADER:
        return 0; /* a mailbox has no group leader */
    default:
        /* Links, exit signals, monitors, spawn requests (signals.c). */
        return sig_route(n, p, op, m);
    }
}
