/*
 * rpc_server.c: rpc:call / erpc:call / erpc:cast into this node
 * (protocol.md 5.6).  OTP 23+ runs them as spawn_request(Node, erpc,
 * execute_call, [Res, M, F, A], [monitor, ...]); we answer each request
 * at once on the I/O thread with SPAWN_REPLY {31, ReqId, From, Flags,
 * Pid}, where Pid is a fresh mailbox standing for the spawned process,
 * with the monitor (and link) the request asked for recorded on it.  The
 * function itself runs on the node's rpc worker thread (callbacks may
 * block; the I/O thread never waits for them), and its result is the exit
 * reason of that mailbox: closing it sends MONITOR_P_EXIT with
 * {Res, return, Value}, {Res, error, Reason, Stack}, {Res, exit, R} or
 * {Res, throw, T}, exactly what erpc:execute_call/4 exits with on BEAM.
 * An MFA nobody registered exits like BEAM's undef:
 * {Res, error, undef, [{M, F, Args, []}]}.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "edist/err.h"
#include "edist/proc.h"
#include "rt/node_int.h"

enum { JOB_CALL = 1, JOB_CAST, JOB_SPAWN, JOB_REX };

typedef struct rpc_job {
    struct rpc_job *next;
    edist_mbox *mb;
    int kind;
    uint8_t *blob; /* {Res, M, F, Args} encoded; for rex Res is
                      {To, Tag} or {To} (the old {rex, Result} form) */
    size_t len;
} rpc_job;

typedef struct rpc_fn {
    char *mod, *fun;
    unsigned arity;
    edist_rpc_fn fn;
    void *ud;
} rpc_fn;

struct rpc_server {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    rpc_job *head, *tail;
    int started, stop;
    int lead; /* the worker waits as the node's leader (rx.c) */
    pthread_t th;
    rpc_fn *fns;
    size_t nfns, capfns;
};

static rpc_server *rpc_get(edist_node *n)
{
    /* Created with the node (node.c), never NULL after start. */
    return n->rpc;
}

int rpc_server_init(edist_node *n)
{
    rpc_server *s = calloc(1, sizeof *s);
    if (!s)
        return EDIST_ENOMEM;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    n->rpc = s;
    return 0;
}

int edist_rpc_register(edist_node *n, const char *module, const char *function,
                       unsigned arity, edist_rpc_fn fn, void *userdata)
{
    if (!n || !module || !function || !fn)
        return EDIST_EINVAL;
    rpc_server *s = rpc_get(n);
    int rc = 0;
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->nfns; i++) {
        rpc_fn *f = &s->fns[i];
        if (f->arity == arity && !strcmp(f->mod, module) &&
            !strcmp(f->fun, function)) {
            f->fn = fn;
            f->ud = userdata;
            pthread_mutex_unlock(&s->mu);
            return 0;
        }
    }
    if (s->nfns == s->capfns) {
        size_t cap = s->capfns ? s->capfns * 2 : 16;
        rpc_fn *nf = realloc(s->fns, cap * sizeof *nf);
        if (!nf)
            rc = EDIST_ENOMEM;
        else {
            s->fns = nf;
            s->capfns = cap;
        }
    }
    if (rc == 0) {
        rpc_fn *f = &s->fns[s->nfns];
        f->mod = strdup(module);
        f->fun = strdup(function);
        f->arity = arity;
        f->fn = fn;
        f->ud = userdata;
        if (!f->mod || !f->fun) {
            free(f->mod);
            free(f->fun);
            rc = EDIST_ENOMEM;
        } else {
            s->nfns++;
        }
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static int tuple(edist_arena *a, edist_term *t, size_t k, const edist_term *el)
{
    if (edist_term_tuple(a, t, k) < 0)
        return EDIST_ENOMEM;
    memcpy(t->v.tuple.elems, el, k * sizeof *el);
    return 0;
}

/* [{M, F, ArityOrArgs, []}] */
static int stack1(edist_arena *a, const edist_term *m, const edist_term *f,
                  const edist_term *aa, edist_term *out)
{
    edist_term fr, el[4] = {*m, *f, *aa, edist_mk_nil()};
    if (tuple(a, &fr, 4, el) < 0 || edist_term_list(a, out, 1) < 0)
        return EDIST_ENOMEM;
    out->v.list.elems[0] = fr;
    *out->v.list.tail = edist_mk_nil();
    return 0;
}

/* Runs one job and ends its mailbox with the result as the reason. */
static void rpc_run(edist_node *n, rpc_server *s, rpc_job *j)
{
    edist_arena *a = edist_arena_new(NULL);
    edist_term in, reason = sig_atom("normal");
    edist_etf_decode_opts o = {0};
    o.flags = EDIST_ETF_NO_VERSION;
    if (!a || edist_etf_decode(a, j->blob, j->len, &o, &in, NULL) < 0) {
        edist_mbox_close_reason(j->mb, NULL);
        edist_arena_free(a);
        return;
    }
    edist_term res = in.v.tuple.elems[0], m = in.v.tuple.elems[1],
               f = in.v.tuple.elems[2], args = in.v.tuple.elems[3];
    size_t nargs = args.type == EDIST_TERM_LIST ? args.v.list.len : 0;
    const edist_term *argv = nargs ? args.v.list.elems : NULL;
    edist_rpc_fn fn = NULL;
    void *ud = NULL;
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->nfns; i++) {
        rpc_fn *r = &s->fns[i];
        if (r->arity == nargs && m.type == EDIST_TERM_ATOM &&
            f.type == EDIST_TERM_ATOM && strlen(r->mod) == m.v.atom.len &&
            !memcmp(r->mod, m.v.atom.name, m.v.atom.len) &&
            strlen(r->fun) == f.v.atom.len &&
            !memcmp(r->fun, f.v.atom.name, f.v.atom.len)) {
            fn = r->fn;
            ud = r->ud;
            break;
        }
    }
    pthread_mutex_unlock(&s->mu);
    edist_term value = edist_mk_nil(), stack;
    int cls;
    if (!fn) {
        cls = EDIST_RPC_ERROR;
        value = sig_atom("undef");
        stack1(a, &m, &f, &args, &stack);
    } else {
        cls = fn(ud, n, a, argv, nargs, &value);
        edist_term ar = edist_mk_int((int64_t)nargs);
        stack1(a, &m, &f, &ar, &stack);
    }
    const char *cname = cls == EDIST_RPC_ERROR   ? "error"
                        : cls == EDIST_RPC_EXIT  ? "exit"
                        : cls == EDIST_RPC_THROW ? "throw"
                                                 : "return";
    if (j->kind == JOB_REX) {
        /* rex's answers: the value, a thrown term as a value, or
         * {badrpc, {'EXIT', Reason}} (error: {Reason, Stack}). */
        edist_term out = value, ex, br, pair;
        if (cls == EDIST_RPC_ERROR || cls == EDIST_RPC_EXIT) {
            edist_term why = value;
            if (cls == EDIST_RPC_ERROR) {
                edist_term el[2] = {value, stack};
                tuple(a, &why, 2, el);
            }
            edist_term el[2] = {sig_atom("EXIT"), why};
            tuple(a, &ex, 2, el);
            edist_term el2[2] = {sig_atom("badrpc"), ex};
            tuple(a, &br, 2, el2);
            out = br;
        }
        const edist_term *to = &res.v.tuple.elems[0];
        edist_term el[2] = {res.v.tuple.arity == 2 ? res.v.tuple.elems[1]
                                                   : sig_atom("rex"),
                            out};
        if (tuple(a, &pair, 2, el) == 0)
            edist_send(j->mb, to, &pair);
        edist_mbox_close(j->mb);
        edist_arena_free(a);
        return;
    }
    if (j->kind == JOB_CALL) {
        /* What erpc:execute_call/4 exits with. */
        edist_term el[4] = {res, sig_atom(cname), value, stack};
        tuple(a, &reason, cls == EDIST_RPC_ERROR ? 4 : 3, el);
    } else if (cls == EDIST_RPC_ERROR) {
        edist_term el[2] = {value, stack};
        tuple(a, &reason, 2, el);
    } else if (cls == EDIST_RPC_EXIT) {
        reason = value;
    } else if (cls == EDIST_RPC_THROW) {
        edist_term nc, el[2] = {sig_atom("nocatch"), value};
        tuple(a, &nc, 2, el);
        edist_term el2[2] = {nc, stack};
        tuple(a, &reason, 2, el2);
    }
    edist_mbox_close_reason(j->mb, &reason);
    edist_arena_free(a);
}

/* How long after its last job an idle worker keeps waiting as the node's
 * leader.  While calls come one after the other the worker then reads the
 * next request itself (no hand-off from the I/O thread); once rpc traffic
 * stops it waits on its condition variable and leaves the leadership to
 * threads waiting in a receive. */
#define RPC_LEAD_MS 200

static void *rpc_worker(void *arg)
{
    edist_node *n = arg;
    rpc_server *s = rpc_get(n);
    uint64_t last_job = node_now_ms();
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->head && !s->stop) {
            uint64_t now = node_now_ms();
            if (now < last_job + RPC_LEAD_MS && rx_try_lead(n)) {
                s->lead = 1;
                pthread_mutex_unlock(&s->mu);
                rx_lead_wait(n, (int)(last_job + RPC_LEAD_MS - now));
                pthread_mutex_lock(&s->mu);
                s->lead = 0;
                continue;
            }
            pthread_cond_wait(&s->cv, &s->mu);
        }
        if (!s->head)
            break;
        rpc_job *j = s->head;
        s->head = j->next;
        if (!s->head)
            s->tail = NULL;
        int stop = s->stop;
        pthread_mutex_unlock(&s->mu);
        if (stop) {
            edist_term r = sig_atom("shutdown");
            edist_mbox_close_reason(j->mb, &r);
        } else {
            rpc_run(n, s, j);
        }
        free(j->blob);
        free(j);
        last_job = node_now_ms();
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Wakes the worker when it waits as the leader (not on cv); a worker
 * routing a request to itself needs no wake-up. */
static void rpc_wake_leader(edist_node *n, int lead)
{
    uint64_t one = 1;
    if (lead && write(n->rx.efd, &one, sizeof one) < 0) {
        /* A full eventfd is already readable: nothing to do. */
    }
}

void rpc_server_stop(edist_node *n)
{
    rpc_server *s = n->rpc;
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->stop = 1;
    pthread_cond_broadcast(&s->cv);
    int started = s->started, lead = s->lead;
    pthread_mutex_unlock(&s->mu);
    rpc_wake_leader(n, lead);
    if (started)
        pthread_join(s->th, NULL);
    for (size_t i = 0; i < s->nfns; i++) {
        free(s->fns[i].mod);
        free(s->fns[i].fun);
    }
    free(s->fns);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
    n->rpc = NULL;
}

/* {31, ReqId, To, Flags, Result} */
static void spawn_reply(edist_peer *p, const edist_term *req,
                        const edist_term *to, int flags,
                        const edist_term *result)
{
    edist_term el[5] = {edist_mk_int(31), *req, *to, edist_mk_int(flags),
                        *result};
    edist_term ctl = sig_tuple(el, 5);
    sig_peer_send(p, &ctl);
}

static int is_mfa(const edist_term *mfa, const char *m, const char *f,
                  int64_t ar)
{
    return mfa->type == EDIST_TERM_TUPLE && mfa->v.tuple.arity == 3 &&
           edist_term_is_atom(&mfa->v.tuple.elems[0], m) &&
           edist_term_is_atom(&mfa->v.tuple.elems[1], f) &&
           mfa->v.tuple.elems[2].type == EDIST_TERM_INT &&
           mfa->v.tuple.elems[2].v.i == ar;
}

static void rpc_enqueue(edist_node *n, rpc_server *s, rpc_job *j);

int rpc_spawn_request(edist_node *n, edist_peer *p, const edist_term *ctl,
                      const edist_term *args)
{
    const edist_term *el = ctl->v.tuple.elems;
    const edist_term *req = &el[1], *from = &el[2], *mfa = &el[4],
                     *opts = &el[5];
    if (from->type != EDIST_TERM_PID || mfa->type != EDIST_TERM_TUPLE ||
        mfa->v.tuple.arity != 3)
        return EDIST_EBADMSG;
    int flags = 0;
    if (opts->type == EDIST_TERM_LIST) {
        for (size_t i = 0; i < opts->v.list.len; i++) {
            if (edist_term_is_atom(&opts->v.list.elems[i], "link"))
                flags |= 1;
            else if (edist_term_is_atom(&opts->v.list.elems[i], "monitor"))
                flags |= 2;
        }
    }
    size_t nargs = args->type == EDIST_TERM_LIST ? args->v.list.len : 0;
    const edist_term *av = nargs ? args->v.list.elems : NULL;
    /* The job: {Res, M, F, Args}. */
    edist_term jel[4];
    int kind;
    if (is_mfa(mfa, "erpc", "execute_call", 4) && nargs == 4) {
        kind = JOB_CALL;
        memcpy(jel, av, sizeof jel);
    } else if (is_mfa(mfa, "erpc", "execute_cast", 3) && nargs == 3) {
        kind = JOB_CAST;
        jel[0] = edist_mk_nil();
        memcpy(jel + 1, av, 3 * sizeof *jel);
    } else {
        kind = JOB_SPAWN; /* spawn(Node, M, F, Args) */
        jel[0] = edist_mk_nil();
        jel[1] = mfa->v.tuple.elems[0];
        jel[2] = mfa->v.tuple.elems[1];
        jel[3] = *args;
    }
    edist_term job = sig_tuple(jel, 4);
    rpc_server *s = rpc_get(n);
    rpc_job *j = calloc(1, sizeof *j);
    edist_mbox *mb = NULL;
    if (!j || sig_encode(&job, &j->blob, &j->len) < 0 ||
        edist_mbox_open(n, &mb) < 0) {
        edist_term e = sig_atom("system_limit");
        spawn_reply(p, req, from, 0, &e);
        if (j)
            free(j->blob);
        free(j);
        return 0;
    }
    j->mb = mb;
    j->kind = kind;
    /* A link or monitor that cannot be recorded (no memory) fails the
     * spawn, as BEAM's system_limit: a caller told of a monitor that will
     * never fire would wait forever. */
    if (((flags & 1) && sig_add_link_in(mb, from, p->name, p->name_len) < 0) ||
        ((flags & 2) &&
         sig_add_monitor_in(mb, from, req, p->name, p->name_len) < 0)) {
        edist_term e = sig_atom("system_limit");
        spawn_reply(p, req, from, 0, &e);
        edist_mbox_close(mb);
        free(j->blob);
        free(j);
        return 0;
    }
    edist_term pid = edist_mbox_pid(mb);
    spawn_reply(p, req, from, flags, &pid);
    rpc_enqueue(n, s, j);
    return 0;
}

/* Hands j to the worker (started on first use); when the server is
 * stopping the job's mailbox ends with `shutdown`. */
static void rpc_enqueue(edist_node *n, rpc_server *s, rpc_job *j)
{
    edist_mbox *mb = j->mb;
    pthread_mutex_lock(&s->mu);
    int ok = !s->stop;
    if (ok && !s->started) {
        ok = pthread_create(&s->th, NULL, rpc_worker, n) == 0;
        s->started = ok;
    }
    if (ok) {
        if (s->tail)
            s->tail->next = j;
        else
            s->head = j;
        s->tail = j;
        pthread_cond_signal(&s->cv);
    }
    int lead = ok && s->lead && !pthread_equal(s->th, pthread_self());
    pthread_mutex_unlock(&s->mu);
    rpc_wake_leader(n, lead);
    if (!ok) {
        /* Closing from the I/O thread only queues control messages. */
        edist_term r = sig_atom("shutdown");
        edist_mbox_close_reason(mb, &r);
        free(j->blob);
        free(j);
    }
}

void rpc_rex_request(edist_node *n, const edist_term *msg)
{
    /* {'$gen_call', {From, Tag}, Req} or {From, Req} */
    if (msg->type != EDIST_TERM_TUPLE)
        return;
    const edist_term *el = msg->v.tuple.elems, *req;
    edist_term to;
    if (msg->v.tuple.arity == 3 && edist_term_is_atom(&el[0], "$gen_call") &&
        el[1].type == EDIST_TERM_TUPLE && el[1].v.tuple.arity == 2) {
        to = el[1];
        req = &el[2];
    } else if (msg->v.tuple.arity == 2) {
        to = sig_tuple((edist_term *)&el[0], 1);
        req = &el[1];
    } else {
        return;
    }
    if (to.v.tuple.elems[0].type != EDIST_TERM_PID ||
        req->type != EDIST_TERM_TUPLE || req->v.tuple.arity != 5 ||
        (!edist_term_is_atom(&req->v.tuple.elems[0], "call") &&
         !edist_term_is_atom(&req->v.tuple.elems[0], "block_call")))
        return;
    edist_term jel[4] = {to, req->v.tuple.elems[1], req->v.tuple.elems[2],
                         req->v.tuple.elems[3]};
    edist_term job = sig_tuple(jel, 4);
    rpc_job *j = calloc(1, sizeof *j);
    if (!j || sig_encode(&job, &j->blob, &j->len) < 0 ||
        edist_mbox_open(n, &j->mb) < 0) {
        if (j)
            free(j->blob);
        free(j);
        return;
    }
    j->kind = JOB_REX;
    rpc_enqueue(n, rpc_get(n), j);
}
