#ifndef CLM_CONSUMERS_MEASURES_H
#define CLM_CONSUMERS_MEASURES_H

/*
 * Quality-measure definitions (docs/quality.md 3-5): loaded from the
 * files of config/measures/, compiled into sorted code sets, and evaluated
 * against one claim version at a time to give the roles it plays
 * (denominator, numerator, exclusion event) for the measures of its
 * performance year. Also the [outcomes] planned-admission diagnosis list
 * and the quality score of a set of per-measure counts. Pure: no I/O
 * except reading the definition files, no logging, no globals.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schemas/event.h"

#define CLM_MEASURES_DIGEST_HEX 65 /* 64 hex digits + NUL */
#define CLM_MEASURE_BENCHMARKS  7  /* 30th, 40th, ..., 90th percentile */
/* Definitions one set may hold: the Redis function gets a claim's roles by
 * definition index, written as three decimal digits. */
#define CLM_MEASURES_MAX 1000

struct clm_measures; /* opaque loaded set */

/* Roles of one claim version for one measure (docs/quality.md 3.1). */
enum {
        CLM_ROLE_D = 1, /* denominator event */
        CLM_ROLE_N = 2, /* numerator event */
        CLM_ROLE_X = 4, /* exclusion event */
};

enum clm_measure_sex {
        CLM_SEX_ANY = 0,
        CLM_SEX_F = 'F',
        CLM_SEX_M = 'M',
};

/* Read-only view of one definition; owned by its struct clm_measures. */
struct clm_measure_def {
        const char *id; /* "001" */
        const char *name;
        const char *file;       /* file it came from (for errors/reports) */
        int year_from, year_to; /* inclusive */
        bool lower_is_better;
        int age_min, age_max; /* -1 = no bound */
        enum clm_measure_sex sex;
        int n_benchmark;                              /* 0 or 7 */
        int64_t benchmark_bp[CLM_MEASURE_BENCHMARKS]; /* 30th..90th, bp */
        const char *source; /* "" when the file gives none */
        bool verified;
};

struct clm_measure_hit {
        const struct clm_measure_def *def;
        unsigned index; /* of def in clm_measures_at order */
        unsigned roles; /* CLM_ROLE_* bits, never 0 */
};

/**
 * @brief Load every `*.conf` file of a directory (names sorted bytewise;
 * names starting with '.' skipped) as one set.
 *
 * A measure id may appear in several files for disjoint year ranges; the
 * [outcomes] section may appear once in the whole set. A directory with no
 * `*.conf` file is an error (an empty set would silently count nothing).
 * @param dir directory (borrowed)
 * @param out on success a new set (free with clm_measures_free); untouched
 * on error
 * @param err on error "file:line: reason" ("path: reason" for file- or
 * directory-level errors)
 * @returns CLM_OK, CLM_ERR_CONFIG (bad definitions, unreadable file or
 * directory) or CLM_ERR_NOMEM
 * @sa clm_measures_free
 */
int clm_measures_load_dir(const char *dir,
                          struct clm_measures **out,
                          char *err,
                          size_t errlen);

/**
 * @brief Load one file as a set; same rules and errors as
 * clm_measures_load_dir.
 * @sa clm_measures_free
 */
int clm_measures_load_file(const char *path,
                           struct clm_measures **out,
                           char *err,
                           size_t errlen);

/** @brief NULL-safe. Every def pointer from the set dies with it. */
void clm_measures_free(struct clm_measures *ms);

/**
 * @brief Definitions in effect for a performance year, in id order (at
 * most one per id).
 * @param ms may be NULL (an empty set)
 * @param out room for @p max pointers; size it with clm_measures_count
 * @returns the number written (<= max)
 */
size_t clm_measures_for_year(const struct clm_measures *ms,
                             int year,
                             const struct clm_measure_def **out,
                             size_t max);

/** @brief Number of definitions, all years; 0 for NULL. */
size_t clm_measures_count(const struct clm_measures *ms);

/**
 * @brief Definition @p i (< clm_measures_count), ordered by id then first
 * year; the order is stable for a given set of files.
 */
const struct clm_measure_def *clm_measures_at(const struct clm_measures *ms,
                                              size_t i);

/**
 * @brief Roles one claim version plays for the measures of @p year
 * (docs/quality.md 3.1). Diagnosis and HCPCS codes are compared without
 * dots, upper case. The caller passes only non-cancelled versions.
 *
 * Hot path: no allocation; each code is looked up in precompiled sorted
 * sets (binary search over exact codes and disjoint ranges, per-length
 * prefix tables).
 * @param ms may be NULL (no hits)
 * @param claim borrowed
 * @param out hits with roles != 0, in id order; size it with
 * clm_measures_count
 * @returns the number written (<= max)
 */
size_t clm_measures_eval(const struct clm_measures *ms,
                         const struct clm_claim *claim,
                         int year,
                         struct clm_measure_hit *out,
                         size_t max);

/**
 * @brief Whether a principal diagnosis is in the [outcomes] planned.dx
 * list (docs/quality.md 4); dots ignored, case-insensitive.
 * @param ms may be NULL (false)
 * @param principal_dx borrowed; "" gives false
 */
bool clm_measures_planned(const struct clm_measures *ms,
                          const char *principal_dx);

/**
 * @brief SHA-256 (64 lower-case hex digits) of a canonical rendering of
 * everything that decides counts and scores: per definition its id, years,
 * direction, age, sex, normalised code lists and benchmark, plus the
 * planned.dx list. Names, sources, verified flags, file names and the
 * order or spelling of code-list entries do not change it.
 * @returns storage owned by @p ms (not NULL)
 */
const char *clm_measures_digest(const struct clm_measures *ms);

/**
 * @brief Compact table for the Redis function:
 * "id:yfrom:yto:amin:amax:sex" per definition, joined by ';' (no trailing
 * ';'; "" for a set with no measure), in clm_measures_at order. amin/amax
 * are -1 when absent; sex is '*', 'F' or 'M'.
 * @returns storage owned by @p ms (not NULL)
 */
const char *clm_measures_lua_table(const struct clm_measures *ms);

/* Quality score (docs/quality.md 5). */
struct clm_measure_count {
        const char *id;
        int64_t den, num, excl;
};

struct clm_measure_score {
        const struct clm_measure_def *def;
        int64_t den, num, excl;
        int64_t rate_bp; /* num * 10000 / den, truncated; -1 when den <= 0 */
        bool scored;
        int points_x100; /* 0, or 110..200 when scored */
};

/**
 * @brief Score per measure of @p year, and the overall quality score.
 *
 * A measure is scored when it has a benchmark and den >= min_denominator
 * (and den > 0). Its points are 1.10, 1.25, ..., 2.00 at or beyond the
 * 30th, 40th, ..., 90th percentile benchmark ("beyond" is above for
 * higher-is-better, below for lower-is-better), 0 below the 30th. The
 * score is sum(points_x100) * 10000 / (200 * scored measures), truncated.
 * @param ms may be NULL (no measures)
 * @param counts any order; ids not defined for the year are ignored, a
 * measure with no entry counts as zeros, and the first entry of a repeated
 * id is used
 * @param out one entry per measure of the year, in id order; room for
 * clm_measures_for_year's count. The score covers every measure even when
 * @p max cuts the list.
 * @param score_bp written always: the score in basis points, or -1 when no
 * measure is scored
 * @returns the number of entries written (<= max)
 */
size_t clm_quality_score(const struct clm_measures *ms,
                         int year,
                         int64_t min_denominator,
                         const struct clm_measure_count *counts,
                         size_t n_counts,
                         struct clm_measure_score *out,
                         size_t max,
                         int64_t *score_bp);

#endif
