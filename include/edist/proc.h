/*
 * edist/proc.h: process semantics for mailboxes: links, exit signals,
 * monitors, node monitoring, gen_server style calls and rpc both ways.
 *
 * A mailbox behaves like an Erlang process that traps exits: signals
 * arrive as ordinary messages in its queue, built like Erlang's:
 *
 *   {'EXIT', From, Reason}                 a linked process ended, or
 *                                          exit/2 (edist_exit) was sent;
 *   {'DOWN', Ref, process, Who, Reason}    a monitored process ended (Who
 *                                          is the pid, or {Name, Node} when
 *                                          monitored by name);
 *   {nodedown, Node}                       edist_monitor_node;
 *   {nodeup, Node} / {nodedown, Node}      edist_monitor_nodes[_opts]
 *   ({nodedown, Node, [{nodedown_reason, R}]} with the reason option).
 *
 * A signal that crosses nodes and whose connection goes down fires with
 * reason `noconnection` (links and monitors we hold); monitors and links
 * others hold on our mailboxes are dropped with the connection.  An exit
 * signal with reason `kill` is delivered as a message too: a mailbox is
 * never killed by the runtime.
 *
 * Threading: every function here is safe from any thread, under the rules
 * of edist/node.h (a mailbox is not used after or during its close).
 * Functions that may connect (link, monitor, call, rpc) block the calling
 * thread for at most the connection setup (7 s) plus any given timeout;
 * never call them from an rpc callback that must stay short.
 */
#ifndef EDIST_PROC_H
#define EDIST_PROC_H

#include "edist/node.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------- links */

/*
 * link(Pid): links mb with pid (local or remote).  A remote node is
 * connected first.  When pid does not exist mb receives {'EXIT', Pid,
 * noproc}; when its node cannot be reached, {'EXIT', Pid, noconnection}
 * (both as Erlang's trapping processes see them).  Linking twice is one
 * link.  Returns 0, EDIST_EINVAL (NULL), EDIST_ETYPE (not a pid),
 * EDIST_ENOMEM.
 */
EDIST_EXTERN int edist_link(edist_mbox *mb, const edist_term *pid);

/*
 * unlink(Pid) with the unlink protocol of OTP 23+ (UNLINK_ID and its
 * acknowledgement): from the call on, exit signals through this link are
 * ignored.  Not linked: a no-op.  Returns 0, EDIST_EINVAL, EDIST_ETYPE,
 * EDIST_ENOMEM, or an error of edist_send while queueing the UNLINK_ID
 * (a peer that is not connected is not an error: the link is gone).
 */
EDIST_EXTERN int edist_unlink(edist_mbox *mb, const edist_term *pid);

/*
 * exit(Pid, Reason): sends an exit signal (EXIT2) from mb to pid.  reason
 * is borrowed.  A local mailbox receives {'EXIT', From, Reason}.
 * Returns 0, EDIST_EINVAL, EDIST_ETYPE, or a send error as edist_send.
 */
EDIST_EXTERN int edist_exit(edist_mbox *mb, const edist_term *pid,
                            const edist_term *reason);

/*
 * Closes mb like edist_mbox_close() but as a process ending with reason
 * (borrowed): links receive exit signals with it and monitors DOWN
 * messages with it.  edist_mbox_close() uses `normal`.  NULL reason:
 * `normal`.
 */
EDIST_EXTERN void edist_mbox_close_reason(edist_mbox *mb,
                                          const edist_term *reason);

/* ---------------------------------------------------------- monitors */

/*
 * erlang:monitor(process, Target): target is a pid, an atom (a name on
 * this node) or {Name, Node}.  Stores the monitor's reference in *ref
 * (its node atom borrowed from the node).  When the target is gone or
 * unknown mb receives {'DOWN', Ref, process, Who, noproc}; when its node
 * is unreachable, ... noconnection.  Returns 0, EDIST_EINVAL, EDIST_ETYPE,
 * EDIST_ENOMEM.
 */
EDIST_EXTERN int edist_monitor(edist_mbox *mb, const edist_term *target,
                               edist_term *ref);

/*
 * erlang:demonitor(Ref): removes a monitor mb holds.  A DOWN message
 * already queued stays.  Returns 0 (also for an unknown ref),
 * EDIST_EINVAL.
 */
EDIST_EXTERN int edist_demonitor(edist_mbox *mb, const edist_term *ref);

/*
 * monitor_node(Node, Flag): on != 0 adds one monitor (repeatable; one
 * {nodedown, Node} message each), on == 0 removes one of them, as ERTS
 * does.  A node
 * that cannot be connected gives {nodedown, Node} at once.  Returns 0,
 * EDIST_EINVAL, EDIST_EBADNAME, EDIST_ENOMEM.
 */
EDIST_EXTERN int edist_monitor_node(edist_mbox *mb, const char *node, int on);

/*
 * Options of edist_monitor_nodes_opts (net_kernel:monitor_nodes/2).  With
 * REASON or TYPE the messages carry an info list, {nodeup, Node, Info} and
 * {nodedown, Node, Info}, built as ERTS builds it:
 *   nodeup:   [{node_type, T}] with TYPE, else [];
 *   nodedown: [{nodedown_reason, R}] with REASON, followed by
 *             {node_type, T} with TYPE, e.g.
 *             [{nodedown_reason, disconnect}, {node_type, hidden}].
 * net_kernel's option lists map to:
 *   [] -> 0;  [nodedown_reason] -> REASON;
 *   [{node_type, visible}] -> TYPE;  [{node_type, all}] -> HIDDEN | TYPE;
 *   [{node_type, hidden}] -> HIDDEN_ONLY | TYPE.
 */
enum {
    /* Also report hidden nodes.  Without it only visible peers are
     * reported, as net_kernel does. */
    EDIST_MONITOR_NODES_HIDDEN = 1,
    /* The nodedown reason: connection_closed, disconnect,
     * net_tick_timeout, ... */
    EDIST_MONITOR_NODES_REASON = 2,
    /* The node type (visible or hidden) in the info list. */
    EDIST_MONITOR_NODES_TYPE = 4,
    /* Report hidden nodes only. */
    EDIST_MONITOR_NODES_HIDDEN_ONLY = 8
};

/*
 * net_kernel:monitor_nodes(on, Options): each call with on != 0 adds a
 * subscription (and one message per event each, as net_kernel keeps
 * them); on == 0 removes the mailbox's subscriptions with exactly these
 * options (options 0: all of them; closing the mailbox removes them too).
 * Returns 0, EDIST_EINVAL, EDIST_ENOMEM.  The plain edist_monitor_nodes() of
 * edist/node.h reports every peer, hidden or not, without reasons.
 */
EDIST_EXTERN int edist_monitor_nodes_opts(edist_mbox *mb, int on,
                                          unsigned options);

/*
 * Whether the connected peer is visible (1: a normal node) or hidden (0),
 * for nodes/1.  Returns 1, 0, EDIST_ENOCONN (not connected), EDIST_EINVAL.
 */
EDIST_EXTERN int edist_node_peer_visible(edist_node *node, const char *peer);

/*
 * erlang:whereis(Name): stores the pid of the mailbox registered as name
 * in *pid (its node atom borrowed from the node).  Returns 0,
 * EDIST_ENOPROC (no such name), EDIST_EINVAL.
 */
EDIST_EXTERN int edist_whereis(edist_node *node, const char *name,
                               edist_term *pid);

/* ------------------------------------------------- gen_server style */

/*
 * gen_server:call(To, Request, Timeout): to is a pid, an atom (a local
 * name) or {Name, Node}; request is borrowed.  The call runs from a
 * private mailbox of its own (so mb's queue is never searched or
 * reordered; mb only names the node), with a monitor on the server and
 * the monitor reference as the tag.  On success stores the reply, decoded
 * into arena a, in *reply and returns 0.  Otherwise:
 *   EDIST_ETIMEDOUT  no reply within timeout_ms (< 0: forever; the
 *                    monitor is removed, a late reply is dropped with
 *                    the private mailbox), also when connecting to the
 *                    server's node took all of it;
 *   EDIST_ENOPROC    the server died, did not exist, or its node went
 *                    down: *reply is the DOWN reason (noproc,
 *                    noconnection or the exit reason), as gen_server:call
 *                    exits with it;
 *   EDIST_EINVAL, EDIST_ETYPE (bad to), EDIST_ENOMEM, send errors.
 */
EDIST_EXTERN int edist_call(edist_mbox *mb, const edist_term *to,
                            const edist_term *request, int timeout_ms,
                            edist_arena *a, edist_term *reply);

/* gen_server:cast(To, Request): sends {'$gen_cast', Request}.  Returns 0
 * or an error as edist_send. */
EDIST_EXTERN int edist_cast(edist_mbox *mb, const edist_term *to,
                            const edist_term *request);

/*
 * gen_server:reply(From, Reply): from is the {Pid, Tag} a '$gen_call'
 * message carried (borrowed); sends {Tag, Reply} to Pid with the tag copied
 * as received (a plain reference or [alias | Ref]).  Returns 0,
 * EDIST_EINVAL (from is not {Pid, Tag}), or an error as edist_send.
 */
EDIST_EXTERN int edist_reply(edist_mbox *mb, const edist_term *from,
                             const edist_term *reply);

/* --------------------------------------------------------- rpc server */

/* How an rpc callback ended (the class of erlang:raise/3). */
enum {
    EDIST_RPC_RETURN = 0,
    EDIST_RPC_ERROR = 1, /* erlang:error(Result) */
    EDIST_RPC_EXIT = 2,  /* exit(Result) */
    EDIST_RPC_THROW = 3  /* throw(Result) */
};

/*
 * An rpc callback: args[0..nargs) are the call's arguments, decoded into
 * a (an arena that lives for the call; allocate the result there).  Store
 * the return value, or the error/exit/throw reason, in *result and return
 * one of EDIST_RPC_*.  Callbacks run on the node's rpc worker thread, one
 * at a time (never on the I/O thread, so blocking is allowed, but a slow
 * callback delays the rpcs behind it).
 */
typedef int (*edist_rpc_fn)(void *userdata, edist_node *node, edist_arena *a,
                            const edist_term *args, size_t nargs,
                            edist_term *result);

/*
 * Makes Module:Function/arity callable from other nodes by rpc:call,
 * erpc:call, erpc:cast and rpc:cast (the node answers SPAWN_REQUEST for
 * erpc:execute_call/4 and execute_cast/3), and through `rex` (erl_call,
 * libei's ei_rpc, edist_rpc: {'$gen_call', From, {call, M, F, A, GL}} and
 * {From, {call, ...}} answered as BEAM's rex does) unless a mailbox is
 * registered as rex.  Strings are copied; userdata
 * is passed to fn.  Registering the same MFA again replaces it.  A call
 * to an MFA nobody registered fails like BEAM's undef.  Returns 0,
 * EDIST_EINVAL, EDIST_ENOMEM.
 */
EDIST_EXTERN int edist_rpc_register(edist_node *node, const char *module,
                                    const char *function, unsigned arity,
                                    edist_rpc_fn fn, void *userdata);

/* --------------------------------------------------------- rpc client */

/*
 * rpc:call(Node, Module, Function, Args, Timeout) through the peer's
 * `rex` server: {Self, {call, M, F, Args, user}}, answered {rex, Reply},
 * as libei's ei_rpc and erl_call ask it.  args is a
 * proper list term or NULL for [] (borrowed).  On return *result (in
 * arena a) is the function's value, or {badrpc, Reason}: {badrpc,
 * nodedown} when the node cannot be reached or goes down, {badrpc,
 * timeout} after timeout_ms (< 0: forever; counted from the call, or from
 * the request's send when the node is connected already, which then
 * reads no clock for a reply that is in by its first wait), and whatever
 * rex answers for failures ({badrpc, {'EXIT', ...}}).  Returns 0 when
 * *result is a value,
 * EDIST_EBADRPC when it is {badrpc, _}, or EDIST_EINVAL (NULL arguments,
 * or peer is this node) / EDIST_ENOMEM (then *result is untouched).
 */
EDIST_EXTERN int edist_rpc(edist_node *node, const char *peer,
                           const char *module, const char *function,
                           const edist_term *args, int timeout_ms,
                           edist_arena *a, edist_term *result);

/*
 * erpc:call(Node, Module, Function, Args, Timeout), made as OTP 23+ makes
 * it (and rpc:call with it): a SPAWN_REQUEST for erpc:execute_call/4,
 * monitored, whose exit reason carries the result (protocol.md 5.6).  It
 * tells the caller how the function ended, which rex cannot.  The peer
 * must answer spawn requests (BEAM since OTP 23, edist nodes).  args is a
 * proper list term or NULL for [] (borrowed).
 *
 * Returns the class the function ended with, *result (in arena a) holding:
 *   EDIST_RPC_RETURN (0)  its value;
 *   EDIST_RPC_ERROR       {Reason, Stack} (undef included: erlang:error);
 *   EDIST_RPC_EXIT        the exit reason (also when the process was
 *                         killed by an exit signal: then that signal's);
 *   EDIST_RPC_THROW       the thrown value.
 * Or, with *result untouched unless said: EDIST_ENOCONN when the node
 * cannot be reached or goes down during the call; EDIST_ETIMEDOUT after
 * timeout_ms (< 0: forever; the function is not stopped, as with
 * erpc:call, and what it sends later is dropped); EDIST_EBADRPC when the
 * peer refused to spawn, *result being the reason (notsup, badarg,
 * system_limit); EDIST_EINVAL (NULL arguments, or peer is this node);
 * EDIST_ENOMEM.
 *
 * The function's group leader is a process of this node that passes its
 * I/O requests to `user` on the node they came from: io:format prints on
 * the called node's console, as it does through rex.
 */
EDIST_EXTERN int edist_erpc(edist_node *node, const char *peer,
                            const char *module, const char *function,
                            const edist_term *args, int timeout_ms,
                            edist_arena *a, edist_term *result);

#ifdef __cplusplus
}
#endif
#endif
