/* err.c: names and messages for the EDIST_ERRNO_MAP codes. */
#include "edist/edist.h"

const char *edist_strerror(int code)
{
    switch (code) {
#define EDIST_ERR_MSG_(name, val, msg)                                         \
    case val:                                                                  \
        return msg;
        EDIST_ERRNO_MAP(EDIST_ERR_MSG_)
#undef EDIST_ERR_MSG_
    case 0:
        return "success";
    default:
        return "unknown error";
    }
}

const char *edist_errname(int code)
{
    switch (code) {
#define EDIST_ERR_NAME_(name, val, msg)                                        \
    case val:                                                                  \
        return #name;
        EDIST_ERRNO_MAP(EDIST_ERR_NAME_)
#undef EDIST_ERR_NAME_
    case 0:
        return "OK";
    default:
        return "UNKNOWN";
    }
}

const char *edist_version(void)
{
    return EDIST_VERSION_STRING;
}
