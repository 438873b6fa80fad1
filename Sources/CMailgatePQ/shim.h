// libpq through the system library (Debian libpq-dev).
#ifndef CMAILGATE_PQ_SHIM_H
#define CMAILGATE_PQ_SHIM_H
#include <libpq-fe.h>
#include <postgres_ext.h>

/// The SQLSTATE field code for PQresultErrorField (a character macro Swift does not import).
static inline int cmg_pq_diag_sqlstate(void) { return PG_DIAG_SQLSTATE; }

/// Silences the server's notices ("relation already exists, skipping"), which libpq
/// would otherwise print to stderr.
static inline void cmg_pq_ignore_notice(void *arg, const char *message) { (void)arg; (void)message; }
static inline void cmg_pq_silence_notices(PGconn *conn) { PQsetNoticeProcessor(conn, cmg_pq_ignore_notice, NULL); }
#endif
