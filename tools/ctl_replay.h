#ifndef CLM_TOOLS_CTL_REPLAY_H
#define CLM_TOOLS_CTL_REPLAY_H

/*
 * claimsctl replay (docs/replay.md): fix each partition's offset range in
 * a manifest, copy the reference data that no topic carries, then run
 * claimsd --replay NAME over the range and show its progress.
 */

#include "consumers/keyhash.h"
#include "daemon/config.h"

/**
 * @brief The replay command. @p cfg is the live configuration loaded from
 * @p config_path (it is switched to the namespace here). @p argv[0] is
 * "replay".
 * @returns the process exit code: 0 complete, 1 failed or interrupted
 * (rerun to resume), 2 bad usage or refused
 */
int ctl_replay(const char *config_path,
               struct clm_config *cfg,
               const struct clm_keyhash *kh,
               int argc,
               char **argv);

/** @brief Time argument: YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, to epoch ms. */
int ctl_parse_time(const char *s, int64_t *ms);

#endif
