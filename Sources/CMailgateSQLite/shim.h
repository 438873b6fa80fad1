// SQLite through the system library (Debian libsqlite3-dev).
#ifndef CMAILGATE_SQLITE_SHIM_H
#define CMAILGATE_SQLITE_SHIM_H
#include <sqlite3.h>

/// SQLITE_TRANSIENT is a macro over a function-pointer cast, which Swift cannot import.
static inline sqlite3_destructor_type cmg_sqlite_transient(void) { return SQLITE_TRANSIENT; }
#endif
