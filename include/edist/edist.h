/*
 * edist/edist.h: the umbrella header of libedist, an implementation of
 * Erlang's distribution (EPMD, handshake, External Term Format, node
 * runtime) in C.
 *
 * Include this one header, or the individual ones it pulls in.  Every public
 * symbol carries the edist_ / EDIST_ prefix.  See docs/ for the API guide.
 */
#ifndef EDIST_EDIST_H
#define EDIST_EDIST_H

#include "edist/export.h"
#include "edist/err.h"
#include "edist/etf.h"
#include "edist/etf_text.h"
#include "edist/mem.h"
#include "edist/term.h"
#include "edist/cookie.h"
#include "edist/epmd.h"
#include "edist/proto.h"
#include "edist/node.h"
#include "edist/proc.h"

#define EDIST_VERSION_MAJOR  0
#define EDIST_VERSION_MINOR  1
#define EDIST_VERSION_PATCH  0
#define EDIST_VERSION_STRING "0.1.0"

#ifdef __cplusplus
extern "C" {
#endif

/* Returns the library's version string ("0.1.0"); static storage. */
EDIST_EXTERN const char *edist_version(void);

#ifdef __cplusplus
}
#endif
#endif
