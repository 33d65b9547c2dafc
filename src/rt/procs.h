/*
 * procs.h: a node's process table: pids and registered names to mailboxes.
 *
 * Any thread may look a mailbox up (the I/O thread routing a message, a
 * user thread sending locally) while another closes it.  The table
 * therefore hands out references: a lookup returns the entry with its
 * reference count raised, and the caller drops it with edist_procs_put().
 * An entry is freed by whoever drops the last reference, after it was
 * removed from the table.
 */
#ifndef EDIST_RT_PROCS_H
#define EDIST_RT_PROCS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "core/hmap.h"
#include "edist/mem.h"

/* The part of a process entry the table manages; embed it first in the
 * owner's struct (the mailbox). */
typedef struct edist_proc {
    atomic_uint refs;
    uint32_t id, serial;
    char *name; /* registered name (owned), or NULL */
    size_t name_len;
    void (*release)(struct edist_proc *p); /* called at refs == 0 */
} edist_proc;

typedef struct edist_procs {
    pthread_mutex_t mu;
    edist_hmap by_id;   /* 8-byte key (id, serial) */
    edist_hmap by_name; /* name bytes */
    uint64_t next;      /* next (serial << 32 | id) to hand out */
    size_t count;
    size_t limit; /* cap on live processes */
    const edist_allocator *alloc;
} edist_procs;

/* Initialises the table with a cap on live processes (0: 1 << 20).
 * Returns 0 or EDIST_ESYS. */
int edist_procs_init(edist_procs *t, size_t limit,
                     const edist_allocator *alloc);

/* Frees the table (not the entries; they must all be gone). */
void edist_procs_destroy(edist_procs *t);

/* Gives p a fresh (id, serial) and adds it with one reference owned by the
 * table.  Returns 0, EDIST_ETOOBIG (cap reached) or EDIST_ENOMEM. */
int edist_procs_add(edist_procs *t, edist_proc *p);

/* Registers name for p.  Returns 0, EDIST_EEXIST (name taken, or p already
 * has a name), EDIST_EINVAL (empty or over 255 bytes), EDIST_ENOMEM. */
int edist_procs_register(edist_procs *t, edist_proc *p, const char *name,
                         size_t len);

/* Drops p's registered name if it has one.  Returns 0 or EDIST_ENOTFOUND. */
int edist_procs_unregister(edist_procs *t, edist_proc *p);

/* Removes p from both indexes and drops the table's reference (which may
 * free p).  A second call is a no-op, provided the caller still holds a
 * reference of its own. */
void edist_procs_remove(edist_procs *t, edist_proc *p);

/* Finds a process by pid fields / by name; returns it with a reference
 * taken (drop it with edist_procs_put) or NULL. */
edist_proc *edist_procs_by_pid(edist_procs *t, uint32_t id, uint32_t serial);
edist_proc *edist_procs_by_name(edist_procs *t, const char *name, size_t len);

/* Takes / drops a reference. */
void edist_procs_get(edist_proc *p);
void edist_procs_put(edist_proc *p);

#endif
