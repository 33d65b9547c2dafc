/*
 * funinfo.c: a bounds-checked look into NEW_FUN_EXT (tag 112):
 *
 *   112 | Size:32 | Arity:8 | Uniq:16 bytes | Index:32 | NumFree:32
 *       | Module (atom) | OldIndex (int) | OldUniq (int) | Pid | FreeVars
 *
 * Only the header fields that fun_to_list/1 prints and erts_cmp orders by
 * are read; the free variables stay opaque bytes.
 */
#include "etf/funinfo.h"

/* Length of the atom encoding at p (ATOM_EXT, SMALL_ATOM_EXT, the UTF-8
 * variants, or ATOM_CACHE_REF), or 0 when malformed. */
static size_t atom_len(const uint8_t *r, size_t n, size_t p)
{
    if (p >= n)
        return 0;
    size_t len;
    switch (r[p]) {
    case 100: /* ATOM_EXT */
    case 118: /* ATOM_UTF8_EXT */
        if (p + 3 > n)
            return 0;
        len = 3 + ((size_t)r[p + 1] << 8 | r[p + 2]);
        break;
    case 115: /* SMALL_ATOM_EXT */
    case 119: /* SMALL_ATOM_UTF8_EXT */
        if (p + 2 > n)
            return 0;
        len = 2 + (size_t)r[p + 1];
        break;
    case 82: /* ATOM_CACHE_REF */
        len = 2;
        break;
    default:
        return 0;
    }
    return p + len <= n ? len : 0;
}

/* SMALL_INTEGER_EXT or INTEGER_EXT at *p. */
static int raw_int(const uint8_t *r, size_t n, size_t *p, uint32_t *v)
{
    if (*p + 2 <= n && r[*p] == 97) {
        *v = r[*p + 1];
        *p += 2;
        return 0;
    }
    if (*p + 5 <= n && r[*p] == 98) {
        *v = (uint32_t)r[*p + 1] << 24 | (uint32_t)r[*p + 2] << 16 |
             (uint32_t)r[*p + 3] << 8 | r[*p + 4];
        *p += 5;
        return 0;
    }
    return -1;
}

int fun_info_get(const edist_term *t, fun_info *info)
{
    const uint8_t *r = t->v.fun.raw;
    size_t n = r ? t->v.fun.raw_len : 0, p = 30, k;
    info->old_index = t->v.fun.index;
    info->old_uniq = 0;
    info->env_off = n;
    if (!(k = atom_len(r, n, p)))
        return -1;
    p += k;
    uint32_t a, b;
    if (raw_int(r, n, &p, &a) < 0 || raw_int(r, n, &p, &b) < 0)
        return -1;
    info->old_index = a;
    info->old_uniq = b;
    /* The creator pid: PID_EXT (103) or NEW_PID_EXT (88). */
    if (p < n && (r[p] == 103 || r[p] == 88)) {
        size_t tail = r[p] == 103 ? 9 : 12;
        if ((k = atom_len(r, n, p + 1)) && p + 1 + k + tail <= n)
            info->env_off = p + 1 + k + tail;
    }
    return 0;
}
