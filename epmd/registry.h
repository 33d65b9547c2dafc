/*
 * registry.h: the node table of edist-epmd.  Pure data structure: no I/O,
 * no clock (the caller passes the time), no global state.
 *
 * It reproduces OTP's epmd bookkeeping exactly:
 *  - "reg": live registrations, newest first (the NAMES and DUMP order);
 *  - "unreg": recently unregistered names, oldest first (FIFO), which keep
 *    their creation counter so that a node coming back under the same name
 *    gets counter + 1 (OTP's bump_creation);
 *  - a new name takes a fresh counter = now + 1 (never below 4), unless the
 *    unreg list holds more than unreg_max entries: then the oldest unreg
 *    record is recycled with its counter, as OTP does.
 * On top of OTP's lists, every record (live or unreg) sits in a hash table
 * keyed by name (seeded SipHash), so lookups and registrations cost O(1)
 * whatever the number of names; a name is never live and unreg at once.
 *
 * Not thread-safe: the daemon's single loop thread owns it.
 */
#ifndef EDIST_EPMD_REGISTRY_H
#define EDIST_EPMD_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "edist/epmd.h"

typedef struct epmd_node {
    struct epmd_node *hnext;       /* hash chain */
    struct epmd_node *prev, *next; /* in reg or unreg list */
    void *owner;                   /* the registrant's connection; borrowed */
    uint64_t hash;
    uint32_t counter; /* creation counter (OTP's cr_counter) */
    int fd;           /* shown by DUMP */
    uint16_t port, high_vsn, low_vsn;
    uint8_t node_type, protocol;
    uint8_t live;
    uint16_t name_len, extra_len;
    uint8_t *extra; /* points into data after the name */
    uint8_t data[]; /* name bytes, then extra bytes */
} epmd_node;

typedef struct epmd_registry {
    epmd_node **buckets;
    size_t nbuckets; /* power of two */
    size_t count;    /* records in the table (live + unreg) */
    epmd_node *reg_head;
    size_t live;
    epmd_node *unreg_head, *unreg_tail;
    size_t unreg_count;
    size_t unreg_max; /* OTP: 1000, or 5 with -d */
    uint64_t k0, k1;  /* hash seed */
} epmd_registry;

/* Initialises an empty registry.  seed should be random (hash flooding).
 * Returns 0 or EDIST_ENOMEM. */
int epmd_registry_init(epmd_registry *r, size_t unreg_max,
                       const uint8_t seed[16]);

/* Frees every record. */
void epmd_registry_free(epmd_registry *r);

/*
 * Registers n (validated with edist_epmd_check_alive2 first) for owner/fd.
 * now is the wall clock in seconds (OTP seeds creations with time()).
 * Returns 0 and the live record in *out, or EDIST_ETOOBIG / EDIST_EUTF8
 * (invalid record), EDIST_ENAMEINUSE (a live node has the name),
 * EDIST_ENOMEM.  Every failure leaves the registry unchanged.
 */
int epmd_registry_register(epmd_registry *r, const edist_epmd_node_info *n,
                           void *owner, int fd, uint64_t now, epmd_node **out);

/* The live record named name[0..len), or NULL. */
epmd_node *epmd_registry_lookup(const epmd_registry *r, const uint8_t *name,
                                size_t len);

/* Moves a live record to the tail of the unreg list (owner cleared). */
void epmd_registry_unregister(epmd_registry *r, epmd_node *node);

/* The creation to send for a live record: the 32-bit counter when the node
 * registered with HighVsn >= 6, else counter % 3 + 1 (OTP get_creation). */
uint32_t epmd_node_creation(const epmd_node *node);

static inline const uint8_t *epmd_node_name(const epmd_node *node)
{
    return node->data;
}

/* Fills a node_info view of a record (borrowing its storage). */
void epmd_node_info(const epmd_node *node, edist_epmd_node_info *out);

/* SipHash-2-4 of p[0..n) with key (k0, k1); exposed for tests. */
uint64_t epmd_siphash(uint64_t k0, uint64_t k1, const uint8_t *p, size_t n);

#endif
