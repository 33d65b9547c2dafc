/*
 * edist/export.h: symbol visibility.  The library is built with
 * -fvisibility=hidden; only declarations marked EDIST_EXTERN are exported.
 */
#ifndef EDIST_EXPORT_H
#define EDIST_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define EDIST_EXTERN __attribute__((visibility("default")))
#else
#define EDIST_EXTERN
#endif

#endif
