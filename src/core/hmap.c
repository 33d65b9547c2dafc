/*
 * hmap.c: open addressing with linear probing and tombstones.
 *
 * Linear probing keeps a lookup to one or two cache lines.  The load factor
 * (live + tombstones) stays under 3/4; a grow rehashes live entries only,
 * so churn (register, unregister, register...) cannot fill the table with
 * tombstones.  The hash is FNV-1a widened with a final avalanche (from
 * murmur3's fmix64): fast for the short keys we store (names, pid ids).
 * Keys come from peers, so flooding one bucket is conceivable; every table
 * has a hard cap on entries set by its owner, which bounds the damage.
 */
#include <string.h>

#include "core/hmap.h"
#include "core/mem.h"
#include "edist/err.h"

static const uint8_t hmap_tomb_byte;
#define HMAP_TOMB ((uint8_t *)(uintptr_t)&hmap_tomb_byte)

uint64_t edist_hash(const void *key, size_t len)
{
    const uint8_t *p = key;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

void edist_hmap_init(edist_hmap *m, const edist_allocator *alloc)
{
    m->slots = NULL;
    m->cap = m->count = m->used = 0;
    m->alloc = edist_mem_resolve(alloc);
}

void edist_hmap_free(edist_hmap *m)
{
    for (size_t i = 0; i < m->cap; i++) {
        uint8_t *k = m->slots[i].key;
        if (k && k != HMAP_TOMB)
            edist_mem_free(m->alloc, k);
    }
    edist_mem_free(m->alloc, m->slots);
    m->slots = NULL;
    m->cap = m->count = m->used = 0;
}

static edist_hmap_slot *hmap_find(const edist_hmap *m, const void *key,
                                  size_t klen, uint64_t h)
{
    if (!m->cap)
        return NULL;
    size_t mask = m->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        edist_hmap_slot *s = &m->slots[i];
        if (!s->key)
            return NULL;
        if (s->key != HMAP_TOMB && s->hash == h && s->klen == klen &&
            memcmp(s->key, key, klen) == 0)
            return s;
    }
}

static int hmap_grow(edist_hmap *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 16;
    /* Mostly tombstones: rehash at the same size instead of doubling. */
    if (m->cap && m->count < m->cap / 4)
        ncap = m->cap;
    if (ncap > SIZE_MAX / sizeof(edist_hmap_slot))
        return EDIST_ENOMEM;
    edist_hmap_slot *ns = edist_mem_alloc(m->alloc, ncap * sizeof *ns);
    if (!ns)
        return EDIST_ENOMEM;
    memset(ns, 0, ncap * sizeof *ns);
    for (size_t i = 0; i < m->cap; i++) {
        edist_hmap_slot *s = &m->slots[i];
        if (!s->key || s->key == HMAP_TOMB)
            continue;
        size_t j = s->hash & (ncap - 1);
        while (ns[j].key)
            j = (j + 1) & (ncap - 1);
        ns[j] = *s;
    }
    edist_mem_free(m->alloc, m->slots);
    m->slots = ns;
    m->cap = ncap;
    m->used = m->count;
    return 0;
}

void *edist_hmap_get(const edist_hmap *m, const void *key, size_t klen)
{
    edist_hmap_slot *s = hmap_find(m, key, klen, edist_hash(key, klen));
    return s ? s->value : NULL;
}

void **edist_hmap_ref(const edist_hmap *m, const void *key, size_t klen)
{
    edist_hmap_slot *s = hmap_find(m, key, klen, edist_hash(key, klen));
    return s ? &s->value : NULL;
}

int edist_hmap_put(edist_hmap *m, const void *key, size_t klen, void *value)
{
    uint64_t h = edist_hash(key, klen);
    if (hmap_find(m, key, klen, h))
        return EDIST_EEXIST;
    if ((m->used + 1) * 4 > m->cap * 3) {
        int rc = hmap_grow(m);
        if (rc < 0)
            return rc;
    }
    uint8_t *k = edist_mem_alloc(m->alloc, klen);
    if (!k)
        return EDIST_ENOMEM;
    if (klen)
        memcpy(k, key, klen);
    size_t mask = m->cap - 1;
    size_t i = h & mask;
    while (m->slots[i].key && m->slots[i].key != HMAP_TOMB)
        i = (i + 1) & mask;
    if (!m->slots[i].key)
        m->used++;
    m->slots[i] = (edist_hmap_slot){k, klen, h, value};
    m->count++;
    return 0;
}

void *edist_hmap_del(edist_hmap *m, const void *key, size_t klen)
{
    edist_hmap_slot *s = hmap_find(m, key, klen, edist_hash(key, klen));
    if (!s)
        return NULL;
    void *v = s->value;
    edist_mem_free(m->alloc, s->key);
    s->key = HMAP_TOMB;
    s->value = NULL;
    m->count--;
    return v;
}
