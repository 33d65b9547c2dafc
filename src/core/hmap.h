/*
 * hmap.h: an open-addressing hash map from byte strings to pointers.
 *
 * Used for every "name to thing" table (registered names, pids, EPMD
 * registrations): lookups cost the same whatever the number of entries.
 * Keys are copied into the map's own storage; values are borrowed
 * pointers.  Not thread-safe: the owner locks around it.
 */
#ifndef EDIST_CORE_HMAP_H
#define EDIST_CORE_HMAP_H

#include <stddef.h>
#include <stdint.h>

#include "edist/mem.h"

typedef struct edist_hmap_slot {
    uint8_t *key; /* NULL: empty; HMAP_TOMB: deleted */
    size_t klen;
    uint64_t hash;
    void *value;
} edist_hmap_slot;

typedef struct edist_hmap {
    edist_hmap_slot *slots;
    size_t cap;   /* power of two, or 0 */
    size_t count; /* live entries */
    size_t used;  /* live + tombstones */
    const edist_allocator *alloc;
} edist_hmap;

/* Initialises an empty map; alloc may be NULL. */
void edist_hmap_init(edist_hmap *m, const edist_allocator *alloc);

/* Frees the map's storage (not the values). */
void edist_hmap_free(edist_hmap *m);

/* Returns the value stored under key, or NULL. */
void *edist_hmap_get(const edist_hmap *m, const void *key, size_t klen);

/* Returns the address of the value stored under key, so that the owner
 * may replace it in place (no del and put, which could fail), or NULL when
 * absent.  Valid until the next put or del on the map. */
void **edist_hmap_ref(const edist_hmap *m, const void *key, size_t klen);

/* Stores value under key.  Returns 0, EDIST_EEXIST when the key is present
 * (the map is unchanged), or EDIST_ENOMEM. */
int edist_hmap_put(edist_hmap *m, const void *key, size_t klen, void *value);

/* Removes key and returns its value, or NULL when absent. */
void *edist_hmap_del(edist_hmap *m, const void *key, size_t klen);

/* The hash used (64-bit, seeded per map would be better against flooding;
 * see hmap.c for why a fixed seed is acceptable here). */
uint64_t edist_hash(const void *key, size_t len);

#endif
