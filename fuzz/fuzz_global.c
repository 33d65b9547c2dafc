/*
 * fuzz_global.c: a script of events into the sans-IO global_name_server
 * (proto/global_int.h): peers coming up and down and arbitrary terms sent
 * to global_name_server from them.  Checks that nothing crashes, that
 * every action is well formed (a decodable message, a node name), and
 * that the state stays within its caps.
 *
 * Input layout, repeated until the input ends:
 *   Op:8 Node:8 [Len:16 Term:Len]
 *   Op % 4: 0 = visible up, 1 = hidden up, 2 = down, 3 = a message of Len
 *   bytes (term_to_binary output, with its 131) from Node.
 * Node picks one of 8 names (n0@h .. n7@h; n7@h is ourselves, which the
 * state machine must never treat as a peer).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edist/edist.h"
#include "edist/etf.h"
#include "proto/global_int.h"

static void check_actions(edist_gl *g)
{
    edist_gl_action *a;
    while ((a = edist_gl_next(g))) {
        if (a->node_len == 0 || a->node_len > EDIST_NODE_NAME_MAX ||
            strlen(a->node) != a->node_len)
            abort();
        if (a->kind == EDIST_GL_SEND || a->kind == EDIST_GL_SEND_PID) {
            edist_arena *ar = edist_arena_new(NULL);
            edist_term t;
            size_t used;
            if (!a->msg ||
                edist_etf_decode(ar, a->msg, a->msg_len, NULL, &t, &used) !=
                    0 ||
                used != a->msg_len)
                abort();
            edist_arena_free(ar);
        } else if (a->kind != EDIST_GL_CONNECT &&
                   a->kind != EDIST_GL_DISCONNECT) {
            abort();
        }
        edist_gl_action_free(g, a);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    edist_gl_opts o = {0};
    o.self = "n7@h";
    o.creation = 5;
    o.server_id = 1;
    o.locker_id = 2;
    o.first_tag = -1000;
    o.no_connect_all = size > 0 && data[0] == 0xff;
    edist_gl *g;
    if (edist_gl_new(&o, &g) != 0)
        return 0;
    size_t i = 0;
    while (i + 2 <= size) {
        uint8_t op = data[i] % 4;
        char node[8];
        snprintf(node, sizeof node, "n%u@h", (unsigned)(data[i + 1] % 8));
        i += 2;
        switch (op) {
        case 0:
        case 1:
            edist_gl_peer_up(g, node, strlen(node), op == 0);
            break;
        case 2:
            edist_gl_peer_down(g, node, strlen(node));
            break;
        default: {
            if (i + 2 > size)
                goto out;
            size_t len = ((size_t)data[i] << 8) | data[i + 1];
            i += 2;
            if (len > size - i)
                len = size - i;
            edist_arena *a = edist_arena_new(NULL);
            edist_term t;
            if (a && edist_etf_decode(a, data + i, len, NULL, &t, NULL) == 0)
                edist_gl_message(g, node, strlen(node), &t);
            edist_arena_free(a);
            i += len;
        }
        }
        check_actions(g);
        if (edist_gl_nodes_count(g) > EDIST_GL_MAX_NODES ||
            edist_gl_names_count(g) > EDIST_GL_MAX_NAMES ||
            edist_gl_locks_count(g) > EDIST_GL_MAX_LOCKS ||
            edist_gl_lost_count(g) > EDIST_GL_MAX_LOST ||
            edist_gl_holders_count(g) > EDIST_GL_MAX_HOLDERS ||
            edist_gl_table_bytes(g) > EDIST_GL_MAX_BYTES ||
            (edist_gl_locks_count(g) == 0 && edist_gl_holders_count(g)) ||
            (edist_gl_names_count(g) == 0 && edist_gl_locks_count(g) == 0 &&
             edist_gl_table_bytes(g)) ||
            edist_gl_known_count(g) > edist_gl_nodes_count(g) ||
            edist_gl_is_known(g, "n7@h", 4))
            abort();
    }
out:
    edist_gl_free(g);
    return 0;
}
