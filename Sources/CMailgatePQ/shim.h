// libpq through the system library (Debian libpq-dev).
#ifndef CMAILGATE_PQ_SHIM_H
#define CMAILGATE_PQ_SHIM_H
#include <libpq-fe.h>
#endif
