/*
 * wire.h: big-endian get/put helpers for the wire formats.
 *
 * All multi-byte integers in EPMD, the handshake, the distribution framing
 * and the External Term Format are big-endian.  The getters read from a
 * pointer the caller has already bounds-checked; they compile to a load and
 * a byte swap.
 */
#ifndef EDIST_CORE_WIRE_H
#define EDIST_CORE_WIRE_H

#include <stdint.h>
#include <string.h>

static inline uint16_t edist_get16(const uint8_t *p)
{
    return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t edist_get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           (uint32_t)p[3];
}

static inline uint64_t edist_get64(const uint8_t *p)
{
    return (uint64_t)edist_get32(p) << 32 | edist_get32(p + 4);
}

static inline void edist_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void edist_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline void edist_put64(uint8_t *p, uint64_t v)
{
    edist_put32(p, (uint32_t)(v >> 32));
    edist_put32(p + 4, (uint32_t)v);
}

#endif
