#ifndef CLM_TOOLS_CTL_QUALITY_H
#define CLM_TOOLS_CTL_QUALITY_H

/*
 * claimsctl commands for the assigned population, quality measures and
 * the roster (docs/quality.md). Split from tools/claimsctl.c so each file
 * stays one concern; claimsctl's main dispatches here.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "consumers/keyhash.h"
#include "consumers/measures.h"
#include "daemon/config.h"

#define CTL_MAX_MEASURES 256

/* Population of one ACO-year by enrollment type (E D A N U). */
struct ctl_pop {
        int64_t b[5], m[5], xb[5], xm[5];
};

/* What `claimsctl quality ACO` shows for one ACO-year. */
struct ctl_quality_year {
        struct clm_measure_count counts[CTL_MAX_MEASURES]; /* as stored */
        char ids[CTL_MAX_MEASURES][16]; /* what counts[].id points to */
        size_t n_counts;
        int64_t index, readmit, admits; /* outcome counts */
        struct ctl_pop pop;
        int64_t paid[5]; /* paid cents by enrollment type */
        struct clm_measure_score sc[CTL_MAX_MEASURES]; /* by measure id */
        size_t n_scores;
        int64_t score_bp; /* quality score, -1 when no measure is scored */
};

/**
 * @brief Read one ACO-year's quality, population and paid counters and
 * score its measures (cfg->measures, may be NULL: then no measures).
 * @param ay written always; its sc[].def point into cfg->measures
 * @returns CLM_OK, or CLM_ERR_REDIS (message on stderr)
 */
int ctl_quality_read(const struct clm_config *cfg,
                     redisContext *c,
                     const char *aco,
                     int year,
                     struct ctl_quality_year *ay);

/**
 * @brief Load a roster CSV (mbi,aco_id,performance_year,enrollment_type,
 * month_flags[,data_sharing_excluded[,birth_date[,sex]]]; an empty
 * aco_id ends the beneficiary's assignment for the year) through the
 * claimsd_apply function, exactly like the attribution topic, so a change
 * moves history and population counts. Rows go in batches behind the
 * function's offset fence under the source "claimsctl/attribution".
 * @returns 0 on success, 1 on a malformed row or Redis error (message on
 * stderr, with file:line for rows)
 */
int ctl_load_attribution(const struct clm_config *cfg,
                         const struct clm_keyhash *kh,
                         const char *path);

/**
 * @brief Every ACO's population counters as TSV (aco, year, enrollment,
 * beneficiaries, months, opted-out beneficiaries, opted-out months),
 * byte-sorted, zero rows omitted: the generator's population.tsv format.
 */
int ctl_population(const struct clm_config *cfg, redisContext *c);

/**
 * @brief Every ACO's quality counters as TSV (aco, year, field, value),
 * byte-sorted, zeros omitted: the generator's quality.tsv format.
 */
int ctl_quality_counts(const struct clm_config *cfg, redisContext *c);

/**
 * @brief Parse "ACO [--year Y] [--json]" (the words after the command).
 * @returns false on a usage error
 */
bool
ctl_aco_args(int argc, char **argv, const char **aco, int *year, bool *json);

/**
 * @brief `quality ACO [--year Y] [--json]`: each measure's denominator,
 * numerator, exclusions, rate and points, the outcome measures, the
 * population and the quality score.
 * @param argc, argv the words after "quality"
 * @returns 0, 1 on a Redis error, 2 on a usage error
 */
int ctl_quality(const struct clm_config *cfg,
                redisContext *c,
                int argc,
                char **argv);

#endif
