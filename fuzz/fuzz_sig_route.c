/*
 * fuzz_sig_route.c: the signal router and the signals table against a
 * hostile peer.
 *
 * A real node (its EPMD is a thread of this process that answers the one
 * registration on a loopback port, so the node's creation is fixed) with three
 * mailboxes and a peer "peer@127.0.0.1" that never connects: what the router
 * sends back (noproc answers, UNLINK_ID_ACK, exit signals of closed mailboxes)
 * is queued on that peer and dropped after each input.  The input is a script
 * of records:
 *
 *   0x00-0x7F  a well-shaped control message: op = OPS[b % NOPS], then
 *              4 choice bytes pick the pids (our mailboxes, a pid of ours
 *              that does not exist or has an old creation, the peer's
 *              pids), the reference (one of our live monitors' refs, or
 *              the peer's), the reason, the unlink id, and may spoil the
 *              tuple (an element dropped or replaced);
 *   0x80-0xBF  raw bytes as the message: op = OPS[b % NOPS], a flags byte
 *              (bit 0: pass-through framing with 131 bytes), a length
 *              byte and that many bytes;
 *   0xC0-0xFF  a local action on the table with one choice byte: close a
 *              mailbox (and open another), link, unlink, monitor and
 *              demonitor between our mailboxes, a spawn request's monitor
 *              of the peer (edist_erpc), the peer going down, aliases.
 *
 * After every record the table's indexes must agree with its entries
 * (sig_tab_check), and after closing every mailbox at the end of an input
 * the table must be empty.  SPAWN_REQUEST is left out: it hands the work
 * to the rpc server thread, and none of what it decides is the table's.
 * Nothing here dials: local actions never involve a remote pid.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "edist/edist.h"
#include "edist/etf.h"
#include "edist/node.h"
#include "edist/proc.h"
#include "rt/node_int.h"
#include "rt/sig_int.h"

#define CHECK(c)                                                               \
    do {                                                                       \
        if (!(c))                                                              \
            abort();                                                           \
    } while (0)

#define CREATION 0x5EED0001u
#define NMB      3
#define NREFS    8

static const int OPS[] = {OP_LINK,
                          OP_EXIT,
                          OP_EXIT2,
                          OP_EXIT_TT,
                          OP_EXIT2_TT,
                          OP_MONITOR_P,
                          OP_DEMONITOR_P,
                          OP_MONITOR_P_EXIT,
                          OP_PAYLOAD_EXIT,
                          OP_PAYLOAD_EXIT_TT,
                          OP_PAYLOAD_EXIT2,
                          OP_PAYLOAD_EXIT2_TT,
                          OP_PAYLOAD_MONITOR_P_EXIT,
                          OP_UNLINK_ID,
                          OP_UNLINK_ID_ACK,
                          OP_SPAWN_REPLY,
                          OP_SPAWN_REPLY_TT,
                          99};
#define NOPS (sizeof OPS / sizeof OPS[0])

static const edist_atom PEER = {"peer@127.0.0.1", 14};

/* The harness's world, made once (a fuzzer's process runs one target). */
static edist_node *node;
static edist_peer *peer;
static edist_mbox *mb[NMB];
static edist_term refs[NREFS]; /* our local monitors' references */
static size_t nrefs;

/* --------------------------------------------------------- the fake EPMD */

/* Answers one ALIVE2_REQ with ALIVE2_X_RESP (result 0, CREATION) and
 * keeps the connection open, as EPMD does while the node lives. */
static void *fake_epmd(void *arg)
{
    int ls = (int)(intptr_t)arg;
    int c = accept(ls, NULL, NULL);
    if (c < 0)
        return NULL;
    uint8_t req[512];
    size_t have = 0;
    while (have < 2 || have < 2 + (size_t)(req[0] << 8 | req[1])) {
        ssize_t r = read(c, req + have, sizeof req - have);
        if (r <= 0)
            return NULL;
        have += (size_t)r;
    }
    uint8_t ans[6] = {118,
                      0,
                      CREATION >> 24,
                      (CREATION >> 16) & 0xFF,
                      (CREATION >> 8) & 0xFF,
                      CREATION & 0xFF};
    if (write(c, ans, sizeof ans) != (ssize_t)sizeof ans)
        return NULL;
    for (;;)
        if (read(c, req, sizeof req) <= 0)
            pause();
    return NULL;
}

static unsigned start_fake_epmd(void)
{
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    CHECK(ls >= 0 && bind(ls, (struct sockaddr *)&a, sizeof a) == 0 &&
          listen(ls, 4) == 0 &&
          getsockname(ls, (struct sockaddr *)&a, &al) == 0);
    pthread_t th;
    CHECK(pthread_create(&th, NULL, fake_epmd, (void *)(intptr_t)ls) == 0);
    pthread_detach(th);
    return ntohs(a.sin_port);
}

static void open_mbox(int k)
{
    CHECK(edist_mbox_open(node, &mb[k]) == 0);
    if (k == 0)
        CHECK(edist_mbox_register(mb[0], "fz0") == 0);
}

static void setup(void)
{
    edist_node_opts o;
    memset(&o, 0, sizeof o);
    o.name = "fz@127.0.0.1";
    o.cookie = "fuzz";
    o.epmd_port = start_fake_epmd();
    o.no_epmd_start = 1;
    char why[256];
    CHECK(edist_node_start(&o, &node, why, sizeof why) == 0);
    int created;
    peer = peer_get_or_create(node, PEER.name, PEER.len, &created);
    CHECK(peer != NULL);
    for (int k = 0; k < NMB; k++)
        open_mbox(k);
}

/* -------------------------------------------------------- choices */

typedef struct script {
    const uint8_t *p, *end;
} script;

static uint8_t next(script *s)
{
    return s->p < s->end ? *s->p++ : 0;
}

static edist_term pick_pid(uint8_t c)
{
    switch (c % 8) {
    case 0:
    case 1:
    case 2:
        return edist_mbox_pid(mb[c % 8]);
    case 3:
        return edist_mk_pid(edist_node_atom(node), 999999, 0, CREATION);
    case 4: {
        edist_term t = edist_mbox_pid(mb[(c >> 3) % NMB]);
        t.v.pid.creation = CREATION - 1;
        return t;
    }
    default:
        return edist_mk_pid(PEER, 100 + (c >> 3) % 4, 0, 7);
    }
}

static edist_term pick_ref(uint8_t c, uint32_t ids[3])
{
    if (c % 4 < 2 && nrefs)
        return refs[(c >> 2) % nrefs];
    ids[0] = c;
    ids[1] = 0x10;
    ids[2] = 0x20;
    return edist_mk_ref(PEER, 7, ids, 3);
}

static edist_term pick_reason(uint8_t c)
{
    static const char *const r[] = {"normal", "kill", "killed", "noproc"};
    return edist_mk_atom(r[c % 4], strlen(r[c % 4]));
}

/* ------------------------------------------------------- the router */

static void route(int op, const uint8_t *data, size_t len, int versioned)
{
    edist_dist_msg m;
    memset(&m, 0, sizeof m);
    m.data = data;
    m.len = len;
    m.versioned = versioned;
    int rc = sig_route(node, peer, op, &m);
    CHECK(rc == 0 || rc == EDIST_EBADMSG);
}

static void structured(script *s, int op)
{
    uint8_t c0 = next(s), c1 = next(s), c2 = next(s), c3 = next(s);
    uint32_t ids[3];
    edist_term el[6], payload = pick_reason(c2 >> 4);
    size_t k = 0;
    edist_term from = pick_pid(c0), to = pick_pid(c1);
    edist_term ref = pick_ref(c2, ids), token = edist_mk_atom("tok", 3);
    el[k++] = edist_mk_int(op);
    switch (op) {
    case OP_LINK:
        el[k++] = from;
        el[k++] = to;
        break;
    case OP_EXIT:
    case OP_EXIT2:
    case OP_EXIT_TT:
    case OP_EXIT2_TT:
    case OP_PAYLOAD_EXIT:
    case OP_PAYLOAD_EXIT_TT:
    case OP_PAYLOAD_EXIT2:
    case OP_PAYLOAD_EXIT2_TT:
        el[k++] = from;
        el[k++] = to;
        if (op == OP_EXIT_TT || op == OP_EXIT2_TT || op == OP_PAYLOAD_EXIT_TT ||
            op == OP_PAYLOAD_EXIT2_TT)
            el[k++] = token;
        if (op < OP_PAYLOAD_EXIT)
            el[k++] = payload;
        break;
    case OP_MONITOR_P:
    case OP_DEMONITOR_P:
        el[k++] = from;
        el[k++] = c3 & 1 ? edist_mk_atom("fz0", 3) : to;
        el[k++] = ref;
        break;
    case OP_MONITOR_P_EXIT:
    case OP_PAYLOAD_MONITOR_P_EXIT:
        el[k++] = c3 & 1 ? edist_mk_atom("fz0", 3) : from;
        el[k++] = to;
        el[k++] = ref;
        if (op == OP_MONITOR_P_EXIT)
            el[k++] = payload;
        break;
    case OP_SPAWN_REPLY:
    case OP_SPAWN_REPLY_TT:
        /* {31, ReqId, To, Flags, Result}: a pid (flags say whether the
         * monitor was set up) or an error atom. */
        el[k++] = ref;
        el[k++] = to;
        el[k++] = edist_mk_int(c3 & 3);
        el[k++] = c3 & 4 ? payload : from;
        if (op == OP_SPAWN_REPLY_TT)
            el[k++] = token;
        break;
    default: /* UNLINK_ID, UNLINK_ID_ACK, unknown */
        el[k++] = edist_mk_int(c3 >> 4);
        el[k++] = from;
        el[k++] = to;
        break;
    }
    if (c3 & 0x80)
        k--; /* a wrong arity */
    if ((c3 & 0x60) == 0x60)
        el[1 + (c3 >> 1) % (k - 1)] = edist_mk_int(c3); /* a wrong type */
    edist_term ctl = sig_tuple(el, k);
    uint8_t buf[1024];
    edist_etf_writer w;
    edist_etf_writer_init_fixed(&w, buf, sizeof buf, 0);
    edist_etf_put_version(&w);
    edist_etf_put_term(&w, &ctl);
    if (op >= OP_PAYLOAD_EXIT && op <= OP_PAYLOAD_MONITOR_P_EXIT) {
        edist_etf_put_version(&w);
        edist_etf_put_term(&w, &payload);
    }
    CHECK(w.err == 0);
    route(op, buf, w.len, 1);
}

static void raw(script *s, int op)
{
    int versioned = next(s) & 1;
    size_t len = next(s);
    if (len > (size_t)(s->end - s->p))
        len = (size_t)(s->end - s->p);
    /* An exact-size heap copy, so that ASan sees any read past it. */
    uint8_t *copy = malloc(len ? len : 1);
    CHECK(copy);
    memcpy(copy, s->p, len);
    s->p += len;
    route(op, copy, len, versioned);
    free(copy);
}

static void local(script *s, uint8_t b)
{
    uint8_t c = next(s);
    edist_mbox *a = mb[c % NMB], *other = mb[(c >> 2) % NMB];
    edist_term pid = edist_mbox_pid(other);
    switch ((b - 0xC0) % 8) {
    case 0: {
        int k = c % NMB;
        edist_term r = pick_reason(c >> 2);
        edist_mbox_close_reason(mb[k], &r);
        open_mbox(k);
        break;
    }
    case 1:
        CHECK(edist_link(a, &pid) == 0);
        break;
    case 2:
        CHECK(edist_unlink(a, &pid) == 0);
        break;
    case 3: {
        /* A monitor between our mailboxes, or edist_erpc's monitor of the
         * process the peer will spawn (the peer's answers then use its
         * reference). */
        edist_term ref = edist_make_ref(node);
        if (c & 0x80)
            CHECK(sig_spawn_monitor(a, &ref, PEER.name, PEER.len) == 0);
        else
            CHECK(edist_monitor(a, &pid, &ref) == 0);
        if (nrefs < NREFS)
            refs[nrefs++] = ref;
        else
            refs[(c >> 4) % NREFS] = ref;
        break;
    }
    case 4:
        if (nrefs)
            CHECK(edist_demonitor(a, &refs[(c >> 2) % nrefs]) == 0);
        break;
    case 5:
        sig_node_down(node, PEER.name, PEER.len);
        break;
    case 6:
        if (nrefs)
            CHECK(sig_alias_add(a, &refs[(c >> 2) % nrefs]) == 0);
        break;
    default:
        if (nrefs) {
            edist_mbox *found = sig_alias_lookup(node, &refs[(c >> 2) % nrefs]);
            if (found)
                edist_procs_put(&found->proc);
            sig_alias_del(a, &refs[(c >> 2) % nrefs]);
        }
        break;
    }
}

static void check_table(void)
{
    pthread_mutex_lock(&node->sig.mu);
    CHECK(sig_tab_check(node) == 0);
    pthread_mutex_unlock(&node->sig.mu);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!node)
        setup();
    script s = {data, data + size};
    while (s.p < s.end) {
        uint8_t b = next(&s);
        if (b < 0x80)
            structured(&s, OPS[b % NOPS]);
        else if (b < 0xC0)
            raw(&s, OPS[b % NOPS]);
        else
            local(&s, b);
        check_table();
    }
    /* Every relation belongs to a mailbox: when all are closed, nothing
     * may be left, in the table or its indexes. */
    for (int k = 0; k < NMB; k++)
        edist_mbox_close(mb[k]);
    pthread_mutex_lock(&node->sig.mu);
    CHECK(sig_tab_check(node) == 0);
    CHECK(node->sig.n == 0 && node->sig.all == NULL);
    CHECK(node->sig.by_owner.count == 0 && node->sig.by_node.count == 0 &&
          node->sig.by_ref.count == 0);
    pthread_mutex_unlock(&node->sig.mu);
    pthread_mutex_lock(&peer->mu);
    edist_outq_clear(&peer->q);
    pthread_mutex_unlock(&peer->mu);
    nrefs = 0;
    for (int k = 0; k < NMB; k++)
        open_mbox(k);
    return 0;
}
