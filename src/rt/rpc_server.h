/*
 * rpc_server.h: answering SPAWN_REQUEST for erpc (rpc:call, erpc:call,
 * erpc:cast into this node) with C functions the program registered.
 */
#ifndef EDIST_RT_RPC_SERVER_H
#define EDIST_RT_RPC_SERVER_H

#include "edist/term.h"

typedef struct edist_node edist_node;
typedef struct edist_peer edist_peer;
typedef struct rpc_server rpc_server;

/* I/O thread: ctl is {29, ReqId, From, GL, {M, F, A}, Opts[, Token]},
 * args the argument list.  Always answers with SPAWN_REPLY.  Returns 0 or
 * EDIST_EBADMSG. */
int rpc_spawn_request(edist_node *n, edist_peer *p, const edist_term *ctl,
                      const edist_term *args);

/* A message to rex: {'$gen_call', {From, Tag}, {call, M, F, Args, GL}}
 * (answered {Tag, Result}) or {From, {call, M, F, Args, GL}} (answered
 * {rex, Result}), as rex answers: the value, the thrown term, or
 * {badrpc, {'EXIT', Reason}}.  Other messages are ignored. */
void rpc_rex_request(edist_node *n, const edist_term *msg);

/* edist_node_stop(): ends the worker (queued requests fail with
 * `shutdown`) and frees the registry. */
void rpc_server_stop(edist_node *n);

#endif
