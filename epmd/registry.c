/*
 * registry.c: edist-epmd's node table (see registry.h for the rules it
 * reproduces from OTP's epmd_srv.c node_reg2/node_unreg).
 */
#include "registry.h"

#include <stdlib.h>
#include <string.h>

#include "edist/err.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                               \
    do {                                                                       \
        v0 += v1;                                                              \
        v1 = ROTL(v1, 13);                                                     \
        v1 ^= v0;                                                              \
        v0 = ROTL(v0, 32);                                                     \
        v2 += v3;                                                              \
        v3 = ROTL(v3, 16);                                                     \
        v3 ^= v2;                                                              \
        v0 += v3;                                                              \
        v3 = ROTL(v3, 21);                                                     \
        v3 ^= v0;                                                              \
        v2 += v1;                                                              \
        v1 = ROTL(v1, 17);                                                     \
        v1 ^= v2;                                                              \
        v2 = ROTL(v2, 32);                                                     \
    } while (0)

static uint64_t load_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

uint64_t epmd_siphash(uint64_t k0, uint64_t k1, const uint8_t *p, size_t n)
{
    uint64_t v0 = 0x736f6d6570736575ULL ^ k0;
    uint64_t v1 = 0x646f72616e646f6dULL ^ k1;
    uint64_t v2 = 0x6c7967656e657261ULL ^ k0;
    uint64_t v3 = 0x7465646279746573ULL ^ k1;
    size_t full = n & ~(size_t)7;
    for (size_t i = 0; i < full; i += 8) {
        uint64_t m = load_le64(p + i);
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    uint64_t b = (uint64_t)n << 56;
    for (size_t i = 0; i < (n & 7); i++)
        b |= (uint64_t)p[full + i] << (8 * i);
    v3 ^= b;
    SIPROUND;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

int epmd_registry_init(epmd_registry *r, size_t unreg_max,
                       const uint8_t seed[16])
{
    memset(r, 0, sizeof *r);
    r->nbuckets = 64;
    r->buckets = calloc(r->nbuckets, sizeof *r->buckets);
    if (!r->buckets)
        return EDIST_ENOMEM;
    r->unreg_max = unreg_max;
    r->k0 = load_le64(seed);
    r->k1 = load_le64(seed + 8);
    return 0;
}

static void free_list(epmd_node *n)
{
    while (n) {
        epmd_node *next = n->next;
        free(n);
        n = next;
    }
}

void epmd_registry_free(epmd_registry *r)
{
    free_list(r->reg_head);
    free_list(r->unreg_head);
    free(r->buckets);
    memset(r, 0, sizeof *r);
}

static epmd_node **find_slot(const epmd_registry *r, const uint8_t *name,
                             size_t len, uint64_t h)
{
    epmd_node **pp = &r->buckets[h & (r->nbuckets - 1)];
    for (; *pp; pp = &(*pp)->hnext) {
        epmd_node *n = *pp;
        if (n->hash == h && n->name_len == len &&
            memcmp(n->data, name, len) == 0)
            return pp;
    }
    return pp;
}

static void grow(epmd_registry *r)
{
    size_t nb = r->nbuckets * 2;
    epmd_node **b = calloc(nb, sizeof *b);
    if (!b)
        return; /* keep the old table: slower, still correct */
    for (size_t i = 0; i < r->nbuckets; i++) {
        epmd_node *n = r->buckets[i];
        while (n) {
            epmd_node *next = n->hnext;
            n->hnext = b[n->hash & (nb - 1)];
            b[n->hash & (nb - 1)] = n;
            n = next;
        }
    }
    free(r->buckets);
    r->buckets = b;
    r->nbuckets = nb;
}

static void hash_remove(epmd_registry *r, epmd_node *node)
{
    epmd_node **pp = &r->buckets[node->hash & (r->nbuckets - 1)];
    while (*pp != node)
        pp = &(*pp)->hnext;
    *pp = node->hnext;
    r->count--;
}

static void hash_insert(epmd_registry *r, epmd_node *node)
{
    size_t i = node->hash & (r->nbuckets - 1);
    node->hnext = r->buckets[i];
    r->buckets[i] = node;
    if (++r->count > r->nbuckets)
        grow(r);
}

static void unreg_unlink(epmd_registry *r, epmd_node *n)
{
    if (n->prev)
        n->prev->next = n->next;
    else
        r->unreg_head = n->next;
    if (n->next)
        n->next->prev = n->prev;
    else
        r->unreg_tail = n->prev;
    r->unreg_count--;
}

static void bump(uint32_t *counter)
{
    if (++*counter < 4)
        *counter = 4;
}

epmd_node *epmd_registry_lookup(const epmd_registry *r, const uint8_t *name,
                                size_t len)
{
    uint64_t h = epmd_siphash(r->k0, r->k1, name, len);
    epmd_node *n = *find_slot(r, name, len, h);
    return n && n->live ? n : NULL;
}

int epmd_registry_register(epmd_registry *r, const edist_epmd_node_info *in,
                           void *owner, int fd, uint64_t now, epmd_node **out)
{
    int rc = edist_epmd_check_alive2(in);
    if (rc < 0)
        return rc;
    uint64_t h = epmd_siphash(r->k0, r->k1, in->name, in->name_len);
    epmd_node *old = *find_slot(r, in->name, in->name_len, h);
    if (old && old->live)
        return EDIST_ENAMEINUSE;
    epmd_node *n = malloc(sizeof *n + in->name_len + in->extra_len);
    if (!n)
        return EDIST_ENOMEM;
    memset(n, 0, sizeof *n);
    if (old) {
        /* The name came back: same record lineage, counter + 1. */
        n->counter = old->counter;
        bump(&n->counter);
        unreg_unlink(r, old);
        hash_remove(r, old);
        free(old);
    } else if (r->unreg_count > r->unreg_max && r->unreg_head) {
        /* OTP recycles the oldest unreg slot and its counter, unbumped. */
        epmd_node *victim = r->unreg_head;
        n->counter = victim->counter;
        unreg_unlink(r, victim);
        hash_remove(r, victim);
        free(victim);
    } else {
        n->counter = (uint32_t)now;
        bump(&n->counter);
    }
    n->hash = h;
    n->owner = owner;
    n->fd = fd;
    n->port = in->port;
    n->node_type = in->node_type;
    n->protocol = in->protocol;
    n->high_vsn = in->high_vsn;
    n->low_vsn = in->low_vsn;
    n->name_len = (uint16_t)in->name_len;
    n->extra_len = (uint16_t)in->extra_len;
    if (in->name_len)
        memcpy(n->data, in->name, in->name_len);
    n->extra = n->data + in->name_len;
    if (in->extra_len)
        memcpy(n->extra, in->extra, in->extra_len);
    n->live = 1;
    n->prev = NULL;
    n->next = r->reg_head;
    if (r->reg_head)
        r->reg_head->prev = n;
    r->reg_head = n;
    r->live++;
    hash_insert(r, n);
    *out = n;
    return 0;
}

void epmd_registry_unregister(epmd_registry *r, epmd_node *n)
{
    if (!n->live)
        return;
    if (n->prev)
        n->prev->next = n->next;
    else
        r->reg_head = n->next;
    if (n->next)
        n->next->prev = n->prev;
    r->live--;
    n->live = 0;
    n->owner = NULL;
    n->next = NULL;
    n->prev = r->unreg_tail;
    if (r->unreg_tail)
        r->unreg_tail->next = n;
    else
        r->unreg_head = n;
    r->unreg_tail = n;
    r->unreg_count++;
}

uint32_t epmd_node_creation(const epmd_node *n)
{
    return n->high_vsn >= 6 ? n->counter : n->counter % 3 + 1;
}

void epmd_node_info(const epmd_node *n, edist_epmd_node_info *o)
{
    o->port = n->port;
    o->node_type = n->node_type;
    o->protocol = n->protocol;
    o->high_vsn = n->high_vsn;
    o->low_vsn = n->low_vsn;
    o->name = n->data;
    o->name_len = n->name_len;
    o->extra = n->extra;
    o->extra_len = n->extra_len;
}
