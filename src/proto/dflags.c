/*
 * dflags.c: distribution capability flags: names, the MANDATORY_25_DIGEST
 * shorthand, formatting lists of missing flags for error messages, node
 * name checks, the simultaneous-connect rule and the MD5 digest.
 */
#include <stdio.h>
#include <string.h>

#include "core/crypto.h"
#include "edist/err.h"
#include "edist/proto.h"

/* Names as dist_util:dflag2str/1 spells them, so that our error messages
 * match what a BEAM node logs for the same problem. */
static const struct {
    uint64_t bit;
    const char *name;
} dflag_names[] = {
    {EDIST_DFLAG_PUBLISHED, "PUBLISHED"},
    {EDIST_DFLAG_ATOM_CACHE, "ATOM_CACHE"},
    {EDIST_DFLAG_EXTENDED_REFERENCES, "EXTENDED_REFERENCES"},
    {EDIST_DFLAG_DIST_MONITOR, "DIST_MONITOR"},
    {EDIST_DFLAG_FUN_TAGS, "FUN_TAGS"},
    {EDIST_DFLAG_DIST_MONITOR_NAME, "DIST_MONITOR_NAME"},
    {EDIST_DFLAG_HIDDEN_ATOM_CACHE, "HIDDEN_ATOM_CACHE"},
    {EDIST_DFLAG_NEW_FUN_TAGS, "NEW_FUN_TAGS"},
    {EDIST_DFLAG_EXTENDED_PIDS_PORTS, "EXTENDED_PIDS_PORTS"},
    {EDIST_DFLAG_EXPORT_PTR_TAG, "EXPORT_PTR_TAG"},
    {EDIST_DFLAG_BIT_BINARIES, "BIT_BINARIES"},
    {EDIST_DFLAG_NEW_FLOATS, "NEW_FLOATS"},
    {EDIST_DFLAG_UNICODE_IO, "UNICODE_IO"},
    {EDIST_DFLAG_DIST_HDR_ATOM_CACHE, "DIST_HDR_ATOM_CACHE"},
    {EDIST_DFLAG_SMALL_ATOM_TAGS, "SMALL_ATOM_TAGS"},
    {EDIST_DFLAG_UTF8_ATOMS, "UTF8_ATOMS"},
    {EDIST_DFLAG_MAP_TAG, "MAP_TAG"},
    {EDIST_DFLAG_BIG_CREATION, "BIG_CREATION"},
    {EDIST_DFLAG_SEND_SENDER, "SEND_SENDER"},
    {EDIST_DFLAG_BIG_SEQTRACE_LABELS, "BIG_SEQTRACE_LABELS"},
    {EDIST_DFLAG_EXIT_PAYLOAD, "EXIT_PAYLOAD"},
    {EDIST_DFLAG_FRAGMENTS, "FRAGMENTS"},
    {EDIST_DFLAG_HANDSHAKE_23, "HANDSHAKE_23"},
    {EDIST_DFLAG_UNLINK_ID, "UNLINK_ID"},
    {EDIST_DFLAG_MANDATORY_25_DIGEST, "MANDATORY_25_DIGEST"},
    {EDIST_DFLAG_SPAWN, "SPAWN"},
    {EDIST_DFLAG_NAME_ME, "NAME_ME"},
    {EDIST_DFLAG_V4_NC, "V4_NC"},
    {EDIST_DFLAG_ALIAS, "ALIAS"},
};

uint64_t edist_dflags_expand(uint64_t flags)
{
    if (flags & EDIST_DFLAG_MANDATORY_25_DIGEST)
        flags |= EDIST_DFLAGS_MANDATORY_25;
    return flags;
}

const char *edist_dflag_name(uint64_t bit)
{
    for (size_t i = 0; i < sizeof dflag_names / sizeof dflag_names[0]; i++)
        if (dflag_names[i].bit == bit)
            return dflag_names[i].name;
    return NULL;
}

/* Appends s at offset *need of buf, truncating to cap like snprintf. */
static void dflags_put(char *buf, size_t cap, size_t *need, const char *s)
{
    for (; *s; s++, (*need)++)
        if (*need + 1 < cap)
            buf[*need] = *s;
    if (cap)
        buf[*need < cap ? *need : cap - 1] = '\0';
}

size_t edist_dflags_format(uint64_t flags, char *buf, size_t cap)
{
    size_t need = 0;
    if (cap)
        buf[0] = '\0';
    for (int i = 0; i < 64; i++) {
        uint64_t bit = UINT64_C(1) << i;
        if (!(flags & bit))
            continue;
        char unknown[40];
        const char *name = edist_dflag_name(bit);
        if (!name) {
            snprintf(unknown, sizeof unknown, "UNKNOWN<0x%llx>",
                     (unsigned long long)bit);
            name = unknown;
        }
        if (need)
            dflags_put(buf, cap, &need, ", ");
        dflags_put(buf, cap, &need, name);
    }
    return need;
}

int edist_node_name_check(const char *name, size_t len)
{
    if (!name || len == 0 || len > EDIST_NODE_NAME_MAX)
        return EDIST_EBADNAME;
    size_t at = len, ats = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == 0x7f)
            return EDIST_EBADNAME;
        if (c == '@') {
            ats++;
            at = i;
        }
    }
    /* dist_util:is_name_ok: string:split(Name, "@", all) must give exactly
     * two non-empty parts. */
    if (ats != 1 || at == 0 || at == len - 1)
        return EDIST_EBADNAME;
    return 0;
}

int edist_hs_simultaneous_rule(const char *my_name, const char *peer_name)
{
    /* net_kernel compares the node atoms; atoms of Latin-1 names order like
     * their bytes. */
    return strcmp(my_name, peer_name) > 0 ? EDIST_HS_STATUS_NOK
                                          : EDIST_HS_STATUS_OK_SIMULTANEOUS;
}

int edist_hs_digest(const void *cookie, size_t cookie_len, uint32_t challenge,
                    uint8_t out[16])
{
    char dec[16];
    int n = snprintf(dec, sizeof dec, "%lu", (unsigned long)challenge);
    return edist_md5_2(cookie, cookie_len, dec, (size_t)n, out);
}
