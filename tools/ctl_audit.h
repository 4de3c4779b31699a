#ifndef CLM_TOOLS_CTL_AUDIT_H
#define CLM_TOOLS_CTL_AUDIT_H

/*
 * claimsctl audit diff and audit drop (docs/replay.md): compare a replay
 * namespace with live data, and remove a namespace. The comparison itself
 * is tools/audit_diff.c; this file reads Redis and prints.
 */

#include "daemon/config.h"

/**
 * @brief `audit diff [--live PREFIX] --replay NAME --as-of TIME
 * [--json | --csv]` and `audit drop NAME [--yes]`.
 *
 * Connects to Redis itself (exit codes of its own). The live prefix
 * defaults to the config's redis.prefix (also under -n).
 * @param cfg borrowed
 * @param argc, argv the words after "audit" (argv[0] is "diff" or "drop")
 * @returns the exit code. diff: 0 equal, 1 different, 2 usage error, Redis
 * error or no such namespace. drop: 0 removed, 1 not confirmed (no --yes)
 * or refused (a process is writing the namespace), 2 usage error (also a
 * bad name), Redis error or no such namespace.
 */
int ctl_audit(const struct clm_config *cfg, int argc, char **argv);

#endif
