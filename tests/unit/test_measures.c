/*
 * Quality-measure definitions: every shipped measure against claims that
 * qualify and claims that do not, code-list matching (exact, prefix,
 * range, dots and case), year ranges, every validation rule with its exact
 * "file:line: reason", the planned-admission list, the digest, the Lua
 * table and the quality score. Definition files for the rule tests are
 * written into a fresh mkdtemp directory per test.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "consumers/measures.h"
#include "daemon/rc.h"
#include "schemas/event.h"

#ifndef TEST_SOURCE_DIR
#error "TEST_SOURCE_DIR must name the source tree"
#endif

#define SHIPPED_DIR TEST_SOURCE_DIR "/config/measures"
#define ALL         (CLM_ROLE_D | CLM_ROLE_N | CLM_ROLE_X)

/* The smallest valid [measure] section: 4 lines. */
#define MINIMAL                                                                \
        "[measure 900]\n"                                                      \
        "name = Test measure\n"                                                \
        "years = 2020-2021\n"                                                  \
        "direction = higher\n"

static char dir[64];
static char errbuf[1024];
static struct clm_measures *shipped;
static struct clm_claim claim; /* large: static, one per test process */

static void
setup(void)
{
        (void)snprintf(dir, sizeof(dir), "/tmp/clm-test-measures-XXXXXX");
        cr_assert(not(eq(ptr, mkdtemp(dir), NULL)));
        errbuf[0] = '\0';
        cr_assert(eq(int,
                     clm_measures_load_dir(SHIPPED_DIR, &shipped, errbuf,
                                           sizeof(errbuf)),
                     CLM_OK),
                  "%s", errbuf);
}

static void
teardown(void)
{
        struct dirent *de;
        char path[512];
        DIR *d = opendir(dir);

        while (d != NULL && (de = readdir(d)) != NULL) {
                if (strcmp(de->d_name, ".") != 0 &&
                    strcmp(de->d_name, "..") != 0) {
                        (void)snprintf(path, sizeof(path), "%s/%s", dir,
                                       de->d_name);
                        (void)unlink(path);
                }
        }
        if (d != NULL) {
                closedir(d);
        }
        (void)rmdir(dir);
        clm_measures_free(shipped);
        shipped = NULL;
}

TestSuite(measures, .init = setup, .fini = teardown, .timeout = 20);

/* ---- helpers ------------------------------------------------------- */

static char *
path_of(const char *name, char *out, size_t size)
{
        (void)snprintf(out, size, "%s/%s", dir, name);
        return out;
}

static void
put(const char *name, const char *body)
{
        char path[256];
        FILE *fp = fopen(path_of(name, path, sizeof(path)), "w");

        cr_assert(not(eq(ptr, fp, NULL)), "%s: %s", path, strerror(errno));
        cr_assert(eq(int, fputs(body, fp) >= 0, 1));
        cr_assert(eq(int, fclose(fp), 0));
}

/* Writes @p body as t.conf and loads it; must succeed. */
static struct clm_measures *
load_ok(const char *body)
{
        struct clm_measures *ms = NULL;
        char path[256];

        put("t.conf", body);
        cr_assert(
                eq(int,
                   clm_measures_load_file(path_of("t.conf", path, sizeof(path)),
                                          &ms, errbuf, sizeof(errbuf)),
                   CLM_OK),
                "%s", errbuf);
        return ms;
}

/* Loading @p body as t.conf fails with exactly "<path>" @p suffix. */
static void
expect_err(const char *body, const char *suffix)
{
        struct clm_measures *ms = NULL;
        char path[256], want[1024];

        put("t.conf", body);
        path_of("t.conf", path, sizeof(path));
        cr_assert(eq(int,
                     clm_measures_load_file(path, &ms, errbuf, sizeof(errbuf)),
                     CLM_ERR_CONFIG),
                  "loaded: %s", body);
        cr_assert(eq(ptr, ms, NULL));
        (void)snprintf(want, sizeof(want), "%s%s", path, suffix);
        cr_assert(eq(str, errbuf, want));
}

/*
 * Fills the claim: the first word of @p dx is the principal diagnosis and
 * the rest other diagnoses; each word of @p codes is one line's HCPCS.
 */
static const struct clm_claim *
make_claim(const char *dx, const char *codes)
{
        char buf[512];
        char *tok, *save = NULL;
        bool first = true;

        memset(&claim, 0, sizeof(claim));
        (void)snprintf(buf, sizeof(buf), "%s", dx);
        for (tok = strtok_r(buf, " ", &save); tok != NULL;
             tok = strtok_r(NULL, " ", &save)) {
                if (first) {
                        (void)snprintf(claim.principal_dx,
                                       sizeof(claim.principal_dx), "%s", tok);
                        first = false;
                        continue;
                }
                cr_assert(lt(sz, claim.n_dx, (size_t)CLM_MAX_DX));
                (void)snprintf(claim.dx[claim.n_dx], CLM_CODE_MAX, "%s", tok);
                claim.n_dx++;
        }
        (void)snprintf(buf, sizeof(buf), "%s", codes);
        for (tok = strtok_r(buf, " ", &save); tok != NULL;
             tok = strtok_r(NULL, " ", &save)) {
                struct clm_line *line = &claim.lines[claim.n_lines++];

                line->line_number = (int32_t)claim.n_lines;
                (void)snprintf(line->hcpcs, sizeof(line->hcpcs), "%s", tok);
        }
        return &claim;
}

/* Roles of a claim for measure @p id in @p year (0: no hit). */
static unsigned
roles_in(const struct clm_measures *ms,
         int year,
         const char *dx,
         const char *codes,
         const char *id)
{
        struct clm_measure_hit hits[64];
        size_t n = clm_measures_eval(ms, make_claim(dx, codes), year, hits, 64);
        size_t i;

        for (i = 0; i < n; i++) {
                cr_assert(not(eq(u32, hits[i].roles, 0u)));
                /* The Redis function finds the definition by this index. */
                cr_assert(eq(ptr, (void *)hits[i].def,
                             (void *)clm_measures_at(ms, hits[i].index)));
                if (strcmp(hits[i].def->id, id) == 0) {
                        return hits[i].roles;
                }
        }
        return 0;
}

#define expect_roles(year, dx, codes, id, want)                                \
        cr_assert(eq(u32, roles_in(shipped, year, dx, codes, id),              \
                     (unsigned)(want)),                                        \
                  "measure %s, %d, dx \"%s\", codes \"%s\"", id, year, dx,     \
                  codes)

static const struct clm_measure_def *
def_for(const struct clm_measures *ms, const char *id, int year)
{
        const struct clm_measure_def *defs[64];
        size_t n = clm_measures_for_year(ms, year, defs, 64);
        size_t i;

        for (i = 0; i < n; i++) {
                if (strcmp(defs[i]->id, id) == 0) {
                        return defs[i];
                }
        }
        return NULL;
}

/* ---- the shipped measures ------------------------------------------ */

Test(measures, shipped_ids_per_year)
{
        static const char *const y2017[] = {"001", "110", "112", "113",
                                            "134", "226", "236"};
        static const char *const y2025[] = {"001", "112", "113",
                                            "134", "226", "236"};
        const struct clm_measure_def *defs[64];
        size_t i, n;
        int year;

        for (year = 2017; year <= 2024; year++) {
                n = clm_measures_for_year(shipped, year, defs, 64);
                cr_assert(eq(sz, n, sizeof(y2017) / sizeof(y2017[0])));
                for (i = 0; i < n; i++) {
                        cr_assert(
                                eq(str, (char *)defs[i]->id, (char *)y2017[i]));
                }
        }
        for (year = 2025; year <= 2026; year++) {
                n = clm_measures_for_year(shipped, year, defs, 64);
                cr_assert(eq(sz, n, sizeof(y2025) / sizeof(y2025[0])));
                for (i = 0; i < n; i++) {
                        cr_assert(
                                eq(str, (char *)defs[i]->id, (char *)y2025[i]));
                }
        }
        cr_assert(eq(sz, clm_measures_for_year(shipped, 2016, defs, 64),
                     (size_t)0));
        cr_assert(eq(sz, clm_measures_for_year(shipped, 2027, defs, 64),
                     (size_t)0));
}

/* Sources are named; nothing unconfirmed is marked verified. */
Test(measures, shipped_definitions_are_documented_and_unverified)
{
        size_t i, n = clm_measures_count(shipped);

        cr_assert(eq(sz, n, (size_t)15));
        for (i = 0; i < n; i++) {
                const struct clm_measure_def *d = clm_measures_at(shipped, i);

                cr_assert(gt(sz, strlen(d->name), (size_t)0));
                cr_assert(gt(sz, strlen(d->source), (size_t)0), "%s", d->id);
                cr_assert(not(d->verified), "%s", d->id);
                cr_assert(eq(int, d->n_benchmark, 7), "%s", d->id);
                cr_assert(eq(int, (int)d->lower_is_better,
                             strcmp(d->id, "001") == 0));
                cr_assert(not(
                        eq(ptr, strstr(d->file, "/config/measures/"), NULL)));
        }
}

Test(measures, shipped_001_hba1c_poor_control_2017_to_2024)
{
        const struct clm_measure_def *d = def_for(shipped, "001", 2020);

        cr_assert(not(eq(ptr, (void *)d, NULL)));
        cr_assert(d->lower_is_better);
        cr_assert(eq(int, d->age_min, 18));
        cr_assert(eq(int, d->age_max, 75));
        /* Diabetes (principal or other diagnosis) plus an E/M encounter. */
        expect_roles(2020, "E11.9", "99213", "001", CLM_ROLE_D);
        expect_roles(2020, "I10 E10.65", "99214", "001", CLM_ROLE_D);
        expect_roles(2017, "E13.9", "99201 3046F", "001",
                     CLM_ROLE_D | CLM_ROLE_N);
        expect_roles(2024, "E119", "G0439 3046F G9687", "001", ALL);
        /* Wrong diagnosis, wrong encounter, "not met" code. */
        expect_roles(2020, "I10", "99213", "001", 0);
        expect_roles(2020, "E12.9", "99213", "001", 0);
        expect_roles(2020, "E11.9", "99281", "001", 0);
        expect_roles(2020, "E11.9", "99213 3044F", "001", CLM_ROLE_D);
        /* Numerator and exclusion events stand alone. */
        expect_roles(2020, "I10", "3046F", "001", CLM_ROLE_N);
        expect_roles(2020, "", "G9687", "001", CLM_ROLE_X);
        /* 2025 codes are not the 2017-2024 codes. */
        expect_roles(2020, "E11.9", "99213 M1211", "001", CLM_ROLE_D);
}

Test(measures, shipped_001_hba1c_poor_control_2025)
{
        const struct clm_measure_def *d = def_for(shipped, "001", 2025);

        cr_assert(not(eq(ptr, (void *)d, NULL)));
        cr_assert(eq(int, d->year_from, 2025));
        cr_assert(d->lower_is_better);
        expect_roles(2025, "E11.9", "99213 M1211", "001",
                     CLM_ROLE_D | CLM_ROLE_N);
        expect_roles(2026, "E10.9", "99215 M1212", "001",
                     CLM_ROLE_D | CLM_ROLE_N);
        expect_roles(2025, "E11.9", "99213 3046F", "001", CLM_ROLE_D);
        expect_roles(2025, "E11.9", "99213 M1371", "001", CLM_ROLE_D);
        /* 99201 was deleted in 2021. */
        expect_roles(2025, "E11.9", "99201", "001", 0);
        expect_roles(2025, "E11.9", "99213 G9988", "001",
                     CLM_ROLE_D | CLM_ROLE_X);
        expect_roles(2025, "E11.9", "99213 G2090", "001",
                     CLM_ROLE_D | CLM_ROLE_X);
        expect_roles(2025, "J45.909", "99213 M1211", "001", CLM_ROLE_N);
}

Test(measures, shipped_236_controlling_blood_pressure)
{
        int years[] = {2018, 2025};
        size_t i;

        for (i = 0; i < 2; i++) {
                int y = years[i];

                expect_roles(y, "I10", "99214", "236", CLM_ROLE_D);
                expect_roles(y, "I10", "99214 G8752 G8754", "236",
                             CLM_ROLE_D | CLM_ROLE_N);
                /* Simplification: either code is a numerator event. */
                expect_roles(y, "I10", "99214 G8752", "236",
                             CLM_ROLE_D | CLM_ROLE_N);
                expect_roles(y, "I10", "99214 G8754", "236",
                             CLM_ROLE_D | CLM_ROLE_N);
                expect_roles(y, "I10", "99214 G8753 G8755", "236", CLM_ROLE_D);
                expect_roles(y, "I10", "99214 3074F", "236", CLM_ROLE_D);
                expect_roles(y, "I11.9", "99214 G8752", "236", CLM_ROLE_N);
                expect_roles(y, "I10", "36415", "236", 0);
                expect_roles(y, "I10", "99214 G9740", "236",
                             CLM_ROLE_D | CLM_ROLE_X);
        }
        cr_assert(eq(int, def_for(shipped, "236", 2025)->age_max, 85));
}

Test(measures, shipped_134_depression_screening)
{
        int years[] = {2017, 2025};
        size_t i;

        for (i = 0; i < 2; i++) {
                int y = years[i];

                /* No diagnosis condition: any encounter qualifies. */
                expect_roles(y, "", "99213", "134", CLM_ROLE_D);
                expect_roles(y, "J45.909", "G0444 G8431", "134",
                             CLM_ROLE_D | CLM_ROLE_N);
                expect_roles(y, "Z00.00", "99397 G8510", "134",
                             CLM_ROLE_D | CLM_ROLE_N);
                expect_roles(y, "", "99213 G8432", "134", CLM_ROLE_D);
                expect_roles(y, "", "99213 G8511", "134", CLM_ROLE_D);
                expect_roles(y, "", "80053", "134", 0);
                expect_roles(y, "", "99213 G9717", "134",
                             CLM_ROLE_D | CLM_ROLE_X);
                expect_roles(y, "", "99213 G8433", "134",
                             CLM_ROLE_D | CLM_ROLE_X);
        }
        cr_assert(eq(int, def_for(shipped, "134", 2017)->age_min, 12));
        cr_assert(eq(int, def_for(shipped, "134", 2017)->age_max, -1));
}

Test(measures, shipped_112_breast_cancer_screening)
{
        const struct clm_measure_def *d2017 = def_for(shipped, "112", 2017);
        const struct clm_measure_def *d2020 = def_for(shipped, "112", 2020);
        const struct clm_measure_def *d2025 = def_for(shipped, "112", 2025);

        cr_assert(eq(int, (int)d2017->sex, (int)CLM_SEX_F));
        cr_assert(eq(int, (int)d2025->sex, (int)CLM_SEX_F));
        cr_assert(eq(int, d2017->year_to, 2019));
        cr_assert(eq(int, d2020->year_from, 2020));
        cr_assert(eq(int, d2017->age_min, 51));
        cr_assert(eq(int, d2025->age_min, 41));
        /* 2017: CPT II 3014F; from 2020: G9899. */
        expect_roles(2017, "", "99396 3014F", "112", CLM_ROLE_D | CLM_ROLE_N);
        expect_roles(2017, "", "99396 G9899", "112", CLM_ROLE_D);
        expect_roles(2021, "", "99396 G9899", "112", CLM_ROLE_D | CLM_ROLE_N);
        expect_roles(2021, "", "99396 3014F", "112", CLM_ROLE_D);
        expect_roles(2025, "", "99214 G9899", "112", CLM_ROLE_D | CLM_ROLE_N);
        expect_roles(2025, "", "99214 G9900", "112", CLM_ROLE_D);
        /* 77067 (the mammogram) is not a quality data code for 112. */
        expect_roles(2025, "", "77067", "112", 0);
        expect_roles(2025, "", "99214 G9708", "112", CLM_ROLE_D | CLM_ROLE_X);
}

Test(measures, shipped_113_colorectal_cancer_screening)
{
        cr_assert(eq(int, def_for(shipped, "113", 2019)->age_min, 50));
        cr_assert(eq(int, def_for(shipped, "113", 2025)->age_min, 45));
        expect_roles(2019, "", "99387 3017F", "113", CLM_ROLE_D | CLM_ROLE_N);
        expect_roles(2025, "", "99213 3017F", "113", CLM_ROLE_D | CLM_ROLE_N);
        expect_roles(2025, "", "99213", "113", CLM_ROLE_D);
        expect_roles(2025, "", "45378 G0121 82270", "113", 0);
        expect_roles(2019, "", "99213 G9710", "113", CLM_ROLE_D | CLM_ROLE_X);
        expect_roles(2025, "", "G9711", "113", CLM_ROLE_X);
}

Test(measures, shipped_110_influenza_immunization)
{
        expect_roles(2017, "", "99213 G8482", "110", CLM_ROLE_D | CLM_ROLE_N);
        expect_roles(2024, "", "G0438 G8482", "110", CLM_ROLE_D | CLM_ROLE_N);
        expect_roles(2024, "", "99213 G8484", "110", CLM_ROLE_D);
        expect_roles(2024, "", "99213 G0008", "110", CLM_ROLE_D);
        expect_roles(2024, "", "90686", "110", 0);
        expect_roles(2024, "", "99213 G8483", "110", CLM_ROLE_D | CLM_ROLE_X);
        /* Not in the 2025 file. */
        expect_roles(2025, "", "99213 G8482", "110", 0);
        cr_assert(eq(ptr, (void *)def_for(shipped, "110", 2025), NULL));
}

Test(measures, shipped_226_tobacco_screening)
{
        expect_roles(2017, "", "99213 4004F", "226", CLM_ROLE_D | CLM_ROLE_N);
        expect_roles(2019, "", "99213 1036F", "226", CLM_ROLE_D | CLM_ROLE_N);
        expect_roles(2019, "", "99213 G9902", "226", CLM_ROLE_D);
        expect_roles(2020, "", "99213 G9902", "226", CLM_ROLE_D | CLM_ROLE_N);
        expect_roles(2022, "", "99213 G9903", "226", CLM_ROLE_D | CLM_ROLE_N);
        expect_roles(2022, "", "99213 4004F", "226", CLM_ROLE_D);
        expect_roles(2022, "", "99213 G9905", "226", CLM_ROLE_D);
        expect_roles(2022, "", "99213 G9904", "226", CLM_ROLE_D | CLM_ROLE_X);
        expect_roles(2025, "", "99213 G9903", "226", CLM_ROLE_D | CLM_ROLE_N);
        expect_roles(2025, "", "36415", "226", 0);
        cr_assert(eq(int, def_for(shipped, "226", 2025)->age_min, 18));
}

/* One claim, every measure of its year, hits in id order. */
Test(measures, eval_returns_hits_in_id_order_and_respects_max)
{
        struct clm_measure_hit hits[16];
        size_t n;

        make_claim("E11.9 I10", "99213 3046F G8752");
        n = clm_measures_eval(shipped, &claim, 2022, hits, 16);
        /* 001, 110, 112, 113, 134, 226, 236: every encounter measure. */
        cr_assert(eq(sz, n, (size_t)7));
        cr_assert(eq(str, (char *)hits[0].def->id, (char *)"001"));
        cr_assert(eq(u32, hits[0].roles, (unsigned)(CLM_ROLE_D | CLM_ROLE_N)));
        cr_assert(eq(str, (char *)hits[6].def->id, (char *)"236"));
        cr_assert(eq(sz, clm_measures_eval(shipped, &claim, 2022, hits, 2),
                     (size_t)2));
        cr_assert(eq(str, (char *)hits[1].def->id, (char *)"110"));
        cr_assert(eq(sz, clm_measures_eval(shipped, &claim, 2022, hits, 0),
                     (size_t)0));
        make_claim("J45.909", "80053");
        cr_assert(eq(sz, clm_measures_eval(shipped, &claim, 2022, hits, 16),
                     (size_t)0));
}

Test(measures, null_set_is_empty)
{
        const struct clm_measure_def *defs[1];
        struct clm_measure_hit hits[1];

        clm_measures_free(NULL);
        cr_assert(eq(sz, clm_measures_count(NULL), (size_t)0));
        cr_assert(eq(ptr, (void *)clm_measures_at(NULL, 0), NULL));
        cr_assert(eq(ptr, (void *)clm_measures_at(shipped, 15), NULL));
        cr_assert(
                eq(sz, clm_measures_for_year(NULL, 2020, defs, 1), (size_t)0));
        cr_assert(eq(sz,
                     clm_measures_eval(NULL, make_claim("E119", "99213"), 2020,
                                       hits, 1),
                     (size_t)0));
        cr_assert(not(clm_measures_planned(NULL, "Z5111")));
}

/* ---- code lists ---------------------------------------------------- */

Test(measures, prefix_matches_longer_codes_only)
{
        struct clm_measures *ms = load_ok(MINIMAL "denominator.dx = E11*\n");

        cr_assert(eq(u32, roles_in(ms, 2020, "E11.9", "", "900"), 1u));
        cr_assert(eq(u32, roles_in(ms, 2020, "E1165", "", "900"), 1u));
        cr_assert(eq(u32, roles_in(ms, 2020, "e11.65", "", "900"), 1u));
        cr_assert(eq(u32, roles_in(ms, 2020, "E11", "", "900"), 1u));
        cr_assert(eq(u32, roles_in(ms, 2020, "E1", "", "900"), 0u));
        cr_assert(eq(u32, roles_in(ms, 2020, "E10.9", "", "900"), 0u));
        cr_assert(eq(u32, roles_in(ms, 2020, "XE119", "", "900"), 0u));
        cr_assert(eq(u32, roles_in(ms, 2020, "", "", "900"), 0u));
        clm_measures_free(ms);
}

Test(measures, ranges_are_inclusive_and_of_one_length)
{
        struct clm_measures *ms =
                load_ok(MINIMAL "denominator.codes = 99202-99205 G0438 "
                                "99211-99215 99212-99213 A* 3000F-3999F\n");

        cr_assert(eq(u32, roles_in(ms, 2020, "", "99202", "900"), 1u));
        cr_assert(eq(u32, roles_in(ms, 2020, "", "99205", "900"), 1u));
        cr_assert(eq(u32, roles_in(ms, 2020, "", "99203", "900"), 1u));
        cr_assert(eq(u32, roles_in(ms, 2020, "", "99201", "900"), 0u));
        cr_assert(eq(u32, roles_in(ms, 2020, "", "99206", "900"), 0u));
        cr_assert(eq(u32, roles_in(ms, 2020, "", "99210", "900"), 0u));
        cr_assert(eq(u32, roles_in(ms, 2020, "", "99211", "900"), 1u));
        cr_assert(eq(u32, roles_in(ms, 2020, "", "99215", "900"), 1u));
        cr_assert(eq(u32, roles_in(ms, 2020, "", "99216", "900"), 0u));
        /* Only codes of the range's length: not 9920, not 992030. */
        cr_assert(eq(u32, roles_in(ms, 2020, "", "9920", "900"), 0u));
        cr_assert(eq(u32, roles_in(ms, 2020, "", "992030", "900"), 0u));
        cr_assert(eq(u32, roles_in(ms, 2020, "", "g0438", "900"), 1u));
        cr_assert(eq(u32, roles_in(ms, 2020, "", "G0439", "900"), 0u));
        cr_assert(eq(u32, roles_in(ms, 2020, "", "A0425", "900"), 1u));
        /* Byte by byte, not as numbers: 3046X lies in 3000F-3999F. */
        cr_assert(eq(u32, roles_in(ms, 2020, "", "3046F", "900"), 1u));
        cr_assert(eq(u32, roles_in(ms, 2020, "", "3046X", "900"), 1u));
        cr_assert(eq(u32, roles_in(ms, 2020, "", "4000F", "900"), 0u));
        /* Any line of the claim may match. */
        cr_assert(eq(u32, roles_in(ms, 2020, "", "36415 80053 99204", "900"),
                     1u));
        clm_measures_free(ms);
}

Test(measures, dots_and_case_ignored_on_both_sides)
{
        struct clm_measures *ms =
                load_ok(MINIMAL "denominator.dx = e11.9 I10 Z51.1*\n"
                                "exclusion.dx = o80 D57.0-D57.2\n");

        cr_assert(eq(u32, roles_in(ms, 2020, "E119", "", "900"), 1u));
        cr_assert(eq(u32, roles_in(ms, 2020, "e11.9", "", "900"), 1u));
        cr_assert(eq(u32, roles_in(ms, 2020, "I.10", "", "900"), 1u));
        cr_assert(eq(u32, roles_in(ms, 2020, "z51.11", "", "900"), 1u));
        cr_assert(eq(u32, roles_in(ms, 2020, "Z510", "", "900"), 0u));
        cr_assert(eq(u32, roles_in(ms, 2020, "O80", "", "900"),
                     (unsigned)CLM_ROLE_X));
        cr_assert(eq(u32, roles_in(ms, 2020, "D57.1", "", "900"),
                     (unsigned)CLM_ROLE_X));
        cr_assert(eq(u32, roles_in(ms, 2020, "d572", "", "900"),
                     (unsigned)CLM_ROLE_X));
        cr_assert(eq(u32, roles_in(ms, 2020, "D573", "", "900"), 0u));
        clm_measures_free(ms);
}

/* An empty list is an absent one: no condition for d, no match for n/x. */
Test(measures, empty_lists_are_absent)
{
        struct clm_measures *ms = load_ok(MINIMAL "denominator.dx = E11*\n"
                                                  "denominator.codes =\n"
                                                  "numerator.codes =\n"
                                                  "exclusion.codes =\n"
                                                  "exclusion.dx =\n");

        cr_assert(eq(u32, roles_in(ms, 2020, "E119", "", "900"), 1u));
        cr_assert(eq(u32, roles_in(ms, 2020, "E119", "99213", "900"), 1u));
        clm_measures_free(ms);
}

/* ---- years, direction, defaults ------------------------------------ */

Test(measures, year_ranges_pick_the_definition_in_force)
{
        struct clm_measures *ms = load_ok("[measure 900]\n"
                                          "name = Old\n"
                                          "years = 2017-2019\n"
                                          "direction = higher\n"
                                          "denominator.codes = 99213\n"
                                          "numerator.codes = 3014F\n"
                                          "[measure 900]\n"
                                          "name = New\n"
                                          "years = 2020\n"
                                          "direction = higher\n"
                                          "denominator.codes = 99213\n"
                                          "numerator.codes = G9899\n");
        const struct clm_measure_def *d;

        cr_assert(eq(sz, clm_measures_count(ms), (size_t)2));
        d = def_for(ms, "900", 2017);
        cr_assert(eq(str, (char *)d->name, (char *)"Old"));
        cr_assert(eq(int, d->year_from, 2017));
        cr_assert(eq(int, d->year_to, 2019));
        d = def_for(ms, "900", 2020);
        cr_assert(eq(str, (char *)d->name, (char *)"New"));
        cr_assert(eq(int, d->year_from, 2020));
        cr_assert(eq(int, d->year_to, 2020));
        cr_assert(eq(ptr, (void *)def_for(ms, "900", 2021), NULL));
        cr_assert(eq(u32, roles_in(ms, 2017, "", "99213 3014F", "900"), 3u));
        cr_assert(eq(u32, roles_in(ms, 2017, "", "99213 G9899", "900"), 1u));
        cr_assert(eq(u32, roles_in(ms, 2020, "", "99213 G9899", "900"), 3u));
        cr_assert(eq(u32, roles_in(ms, 2021, "", "99213 G9899", "900"), 0u));
        clm_measures_free(ms);
}

Test(measures, definitions_sorted_by_id_then_year)
{
        struct clm_measures *ms = load_ok("[measure 236]\n"
                                          "name = b\nyears = 2022\n"
                                          "direction = higher\n"
                                          "denominator.dx = I10\n"
                                          "[measure 001]\n"
                                          "name = a2\nyears = 2021\n"
                                          "direction = lower\n"
                                          "denominator.dx = E11*\n"
                                          "[measure 001]\n"
                                          "name = a1\nyears = 2020\n"
                                          "direction = lower\n"
                                          "denominator.dx = E11*\n");

        cr_assert(eq(str, (char *)clm_measures_at(ms, 0)->name, (char *)"a1"));
        cr_assert(eq(str, (char *)clm_measures_at(ms, 1)->name, (char *)"a2"));
        cr_assert(eq(str, (char *)clm_measures_at(ms, 2)->name, (char *)"b"));
        clm_measures_free(ms);
}

Test(measures, inverse_measure_takes_descending_benchmark)
{
        struct clm_measures *ms = load_ok(
                MINIMAL "denominator.dx = E11*\n"
                        "benchmark = 10 20 30 40 50 60 70\n"
                        "[measure 901]\n"
                        "name = Inverse\nyears = 2020\ndirection = lower\n"
                        "age = 18-75\nsex = M\n"
                        "denominator.dx = E11*\n"
                        "benchmark = 9000 8000 7000 7000 5000 4000 0\n"
                        "source = test\nverified = true\n");
        const struct clm_measure_def *hi = def_for(ms, "900", 2020);
        const struct clm_measure_def *lo = def_for(ms, "901", 2020);

        cr_assert(not(hi->lower_is_better));
        cr_assert(eq(int, hi->age_min, -1));
        cr_assert(eq(int, hi->age_max, -1));
        cr_assert(eq(int, (int)hi->sex, (int)CLM_SEX_ANY));
        cr_assert(eq(str, (char *)hi->source, (char *)""));
        cr_assert(not(hi->verified));
        cr_assert(lo->lower_is_better);
        cr_assert(eq(int, lo->n_benchmark, 7));
        cr_assert(eq(i64, lo->benchmark_bp[0], 9000));
        cr_assert(eq(i64, lo->benchmark_bp[6], 0));
        cr_assert(eq(int, lo->age_min, 18));
        cr_assert(eq(int, lo->age_max, 75));
        cr_assert(eq(int, (int)lo->sex, (int)CLM_SEX_M));
        cr_assert(eq(str, (char *)lo->source, (char *)"test"));
        cr_assert(lo->verified);
        clm_measures_free(ms);
}

Test(measures, comments_and_blank_lines)
{
        struct clm_measures *ms =
                load_ok("# header comment\n"
                        "\n"
                        "[measure 900]   # trailing comment\n"
                        "  name = A#1 name  # the '#' in A#1 stays\n"
                        "years = 2020-2021\t# tab before the comment\n"
                        "direction = higher\r\n"
                        "denominator.dx = E11* # E13*\n");

        cr_assert(eq(str, (char *)clm_measures_at(ms, 0)->name,
                     (char *)"A#1 name"));
        cr_assert(eq(u32, roles_in(ms, 2020, "E13.9", "", "900"), 0u));
        clm_measures_free(ms);
}

Test(measures, directory_loads_sorted_conf_files_only)
{
        struct clm_measures *ms = NULL;

        put("b.conf", MINIMAL "denominator.dx = E11*\n");
        put("a.conf", "[measure 900]\nname = Early\nyears = 2017-2019\n"
                      "direction = higher\ndenominator.dx = E11*\n"
                      "[outcomes]\nplanned.dx = Z510\n");
        put("c.conf.disabled", "[bogus]\n");
        put(".hidden.conf", "[bogus]\n");
        put("notes.txt", "[bogus]\n");
        cr_assert(eq(int,
                     clm_measures_load_dir(dir, &ms, errbuf, sizeof(errbuf)),
                     CLM_OK),
                  "%s", errbuf);
        cr_assert(eq(sz, clm_measures_count(ms), (size_t)2));
        cr_assert(
                eq(str, (char *)clm_measures_at(ms, 0)->name, (char *)"Early"));
        cr_assert(not(eq(ptr, strstr(clm_measures_at(ms, 0)->file, "/a.conf"),
                         NULL)));
        cr_assert(not(eq(ptr, strstr(clm_measures_at(ms, 1)->file, "/b.conf"),
                         NULL)));
        cr_assert(clm_measures_planned(ms, "Z51.0"));
        clm_measures_free(ms);
}

/* ---- validation: one rule per test, exact file:line ---------------- */

Test(measures, rejects_unknown_section)
{
        expect_err("[measures 001]\n", ":1: unknown section [measures 001]");
        expect_err("\n[outcome]\n", ":2: unknown section [outcome]");
        expect_err("[measure 001\n", ":1: expected [measure ID] or [outcomes]");
        expect_err("[measure]\n",
                   ":1: measure id \"\": 1 to 15 letters, digits, '.', '_' "
                   "or '-'");
        expect_err("[measure 0:1]\n",
                   ":1: measure id \"0:1\": 1 to 15 letters, digits, '.', "
                   "'_' or '-'");
}

Test(measures, rejects_unknown_key)
{
        expect_err(MINIMAL "colour = red\n",
                   ":5: colour: unknown key in [measure]");
        expect_err(MINIMAL "planned.dx = Z510\n",
                   ":5: planned.dx: unknown key in [measure]");
        expect_err("[outcomes]\nname = x\n",
                   ":2: name: unknown key in [outcomes]");
        expect_err("name = x\n", ":1: name: outside any section");
        expect_err(MINIMAL "denominator.dx\n", ":5: expected 'key = value'");
        expect_err(MINIMAL "= E11*\n", ":5: expected 'key = value'");
}

Test(measures, rejects_duplicate_key)
{
        expect_err(MINIMAL "denominator.dx = E11*\nname = again\n",
                   ":6: name: already set on line 2");
        expect_err("[outcomes]\nplanned.dx = Z510\nplanned.dx = Z52*\n",
                   ":3: planned.dx: already set on line 2");
        /* The same key in the next section is fine. */
        struct clm_measures *ms =
                load_ok(MINIMAL "denominator.dx = E11*\n"
                                "[measure 901]\nname = b\nyears = 2020\n"
                                "direction = higher\ndenominator.dx = E11*\n");
        clm_measures_free(ms);
}

Test(measures, rejects_malformed_code_lists)
{
        expect_err(MINIMAL "denominator.codes = 99213 9920-99215\n",
                   ":5: denominator.codes: \"9920-99215\": range ends differ "
                   "in length");
        expect_err(MINIMAL "denominator.codes = 99215-99202\n",
                   ":5: denominator.codes: \"99215-99202\": range is "
                   "reversed");
        expect_err(MINIMAL "denominator.dx = *\n",
                   ":5: denominator.dx: \"*\": empty prefix");
        expect_err(MINIMAL "exclusion.dx = E1*1\n",
                   ":5: exclusion.dx: \"E1*1\": '*' may only end a prefix");
        expect_err(MINIMAL "exclusion.dx = E10-E11*\n",
                   ":5: exclusion.dx: \"E10-E11*\": '*' may only end a "
                   "prefix");
        expect_err(MINIMAL "numerator.codes = 3046F,3044F\n",
                   ":5: numerator.codes: \"3046F,3044F\": codes are letters "
                   "and digits (and dots)");
        expect_err(MINIMAL "numerator.codes = -99213\n",
                   ":5: numerator.codes: \"-99213\": empty code");
        expect_err(MINIMAL "exclusion.codes = ABCDEFGHIJKL\n",
                   ":5: exclusion.codes: \"ABCDEFGHIJKL\": code longer than "
                   "11 characters");
        expect_err("[outcomes]\nplanned.dx = Z51*1\n",
                   ":2: planned.dx: \"Z51*1\": '*' may only end a prefix");
}

Test(measures, rejects_bad_years)
{
        expect_err("[measure 900]\nyears = 2024-2017\n",
                   ":2: years: range is reversed");
        expect_err("[measure 900]\nyears = 17\n",
                   ":2: years: expected YYYY or YYYY-YYYY (1900 to 9999)");
        expect_err("[measure 900]\nyears = 2017-\n",
                   ":2: years: expected YYYY or YYYY-YYYY (1900 to 9999)");
        expect_err("[measure 900]\nyears = 2017 - 2018\n",
                   ":2: years: expected YYYY or YYYY-YYYY (1900 to 9999)");
        expect_err("[measure 900]\nyears =\n",
                   ":2: years: expected YYYY or YYYY-YYYY (1900 to 9999)");
}

Test(measures, rejects_bad_age_sex_direction_verified)
{
        expect_err("[measure 900]\nage = 75-18\n",
                   ":2: age: range is reversed");
        expect_err("[measure 900]\nage = adult\n",
                   ":2: age: expected MIN-MAX, MIN- or -MAX (0 to 150)");
        expect_err("[measure 900]\nage = 18-200\n",
                   ":2: age: expected MIN-MAX, MIN- or -MAX (0 to 150)");
        expect_err("[measure 900]\nage = -\n",
                   ":2: age: expected MIN-MAX, MIN- or -MAX (0 to 150)");
        expect_err("[measure 900]\nsex = female\n",
                   ":2: sex: must be any, F or M");
        expect_err("[measure 900]\nsex = f\n", ":2: sex: must be any, F or M");
        expect_err("[measure 900]\ndirection = up\n",
                   ":2: direction: must be lower or higher");
        expect_err("[measure 900]\nverified = yes\n",
                   ":2: verified: must be true or false");
        expect_err("[outcomes]\nverified = 1\n",
                   ":2: verified: must be true or false");
        expect_err("[measure 900]\nname =\n", ":2: name: must not be empty");
}

Test(measures, open_ended_ages)
{
        struct clm_measures *ms = load_ok(MINIMAL "denominator.dx = E11*\n"
                                                  "age = -85\n");

        cr_assert(eq(int, clm_measures_at(ms, 0)->age_min, -1));
        cr_assert(eq(int, clm_measures_at(ms, 0)->age_max, 85));
        clm_measures_free(ms);
        ms = load_ok(MINIMAL "denominator.dx = E11*\nage = 65\n");
        cr_assert(eq(int, clm_measures_at(ms, 0)->age_min, 65));
        cr_assert(eq(int, clm_measures_at(ms, 0)->age_max, 65));
        clm_measures_free(ms);
}

Test(measures, rejects_missing_required_keys)
{
        expect_err("[measure 900]\nyears = 2020\ndirection = higher\n"
                   "denominator.dx = E11*\n",
                   ":1: measure 900: missing name");
        expect_err("\n[measure 900]\nname = a\ndirection = higher\n"
                   "denominator.dx = E11*\n[measure 901]\n",
                   ":2: measure 900: missing years");
        expect_err("[measure 900]\nname = a\nyears = 2020\n"
                   "denominator.dx = E11*\n",
                   ":1: measure 900: missing direction");
}

Test(measures, rejects_measure_without_denominator)
{
        expect_err(MINIMAL "numerator.codes = 3046F\n",
                   ":1: measure 900: needs denominator.dx or "
                   "denominator.codes");
        expect_err(MINIMAL "denominator.dx =\ndenominator.codes =\n",
                   ":1: measure 900: needs denominator.dx or "
                   "denominator.codes");
}

/* The Redis function names a definition by a three-digit index. */
Test(measures, rejects_more_than_max_definitions)
{
        static const char one[] = "[measure m%04d]\nname = a\nyears = 2020\n"
                                  "direction = higher\ndenominator.dx = E11*\n";
        size_t cap = (CLM_MEASURES_MAX + 1) * sizeof(one);
        char *body = malloc(cap);
        char want[64];
        size_t len = 0;

        cr_assert(not(eq(ptr, body, NULL)));
        for (int i = 0; i <= CLM_MEASURES_MAX; i++) {
                len += (size_t)snprintf(body + len, cap - len, one, i);
        }
        (void)snprintf(want, sizeof(want),
                       ":%d: more than %d measure definitions",
                       5 * CLM_MEASURES_MAX + 1, CLM_MEASURES_MAX);
        expect_err(body, want);
        free(body);
}

Test(measures, rejects_bad_benchmark)
{
        expect_err(MINIMAL "benchmark = 1 2 3 4 5 6\n",
                   ":5: benchmark: 6 rates, need 7 (30th to 90th "
                   "percentile)");
        expect_err(MINIMAL "benchmark = 1 2 3 4 5 6 7 8\n",
                   ":5: benchmark: more than 7 rates (30th to 90th "
                   "percentile)");
        expect_err(MINIMAL "benchmark = 1 2 3 4 5 6 10001\n",
                   ":5: benchmark: \"10001\" is not a rate from 0 to 10000 "
                   "basis points");
        expect_err(MINIMAL "benchmark = 1 2 3 4 5 6 -7\n",
                   ":5: benchmark: \"-7\" is not a rate from 0 to 10000 "
                   "basis points");
        expect_err(MINIMAL "benchmark = 1 2 3 4 5 6 7.5\n",
                   ":5: benchmark: \"7.5\" is not a rate from 0 to 10000 "
                   "basis points");
        /* Order is checked against the direction at the end of the section,
         * so it holds whichever key comes first. */
        expect_err("[measure 900]\nname = a\nyears = 2020\n"
                   "benchmark = 70 60 50 40 30 20 10\n"
                   "direction = higher\ndenominator.dx = E11*\n",
                   ":4: benchmark: rates must not decrease (30th to 90th "
                   "percentile) for direction = higher");
        expect_err("[measure 900]\nname = a\nyears = 2020\n"
                   "direction = lower\ndenominator.dx = E11*\n"
                   "benchmark = 10 20 30 40 50 60 70\n",
                   ":6: benchmark: rates must not increase (30th to 90th "
                   "percentile) for direction = lower");
        expect_err("[measure 900]\nname = a\nyears = 2020\n"
                   "direction = lower\ndenominator.dx = E11*\n"
                   "benchmark = 70 60 50 40 30 20 30\n",
                   ":6: benchmark: rates must not increase (30th to 90th "
                   "percentile) for direction = lower");
}

Test(measures, rejects_overlapping_years_in_one_file)
{
        char path[256], want[512];

        (void)snprintf(want, sizeof(want),
                       ":10: years: measure 900 2021-2022 overlaps 2020-2021 "
                       "at %s:1",
                       path_of("t.conf", path, sizeof(path)));
        expect_err(MINIMAL "denominator.dx = E11*\n"
                           "[measure 900]\nname = b\ndirection = higher\n"
                           "denominator.dx = E11*\nyears = 2021-2022\n",
                   want);
}

Test(measures, rejects_overlapping_years_across_files)
{
        struct clm_measures *ms = NULL;
        char want[512];

        put("a.conf", "[measure 001]\nname = a\nyears = 2017-2020\n"
                      "direction = lower\ndenominator.dx = E11*\n");
        put("b.conf", "# later file\n[measure 001]\nname = b\n"
                      "years = 2020-2024\ndirection = lower\n"
                      "denominator.dx = E11*\n");
        cr_assert(eq(int,
                     clm_measures_load_dir(dir, &ms, errbuf, sizeof(errbuf)),
                     CLM_ERR_CONFIG));
        cr_assert(eq(ptr, ms, NULL));
        (void)snprintf(want, sizeof(want),
                       "%s/b.conf:4: years: measure 001 2020-2024 overlaps "
                       "2017-2020 at %s/a.conf:1",
                       dir, dir);
        cr_assert(eq(str, errbuf, want));
        /* Disjoint years across files are the normal case. */
        put("b.conf", "[measure 001]\nname = b\nyears = 2021-2024\n"
                      "direction = lower\ndenominator.dx = E11*\n");
        cr_assert(eq(int,
                     clm_measures_load_dir(dir, &ms, errbuf, sizeof(errbuf)),
                     CLM_OK),
                  "%s", errbuf);
        cr_assert(eq(sz, clm_measures_count(ms), (size_t)2));
        clm_measures_free(ms);
}

Test(measures, rejects_second_outcomes_section)
{
        struct clm_measures *ms = NULL;
        char want[512];

        put("a.conf", "[outcomes]\nplanned.dx = Z510\n");
        put("b.conf", "\n\n[outcomes]\nplanned.dx = Z52*\n");
        cr_assert(eq(int,
                     clm_measures_load_dir(dir, &ms, errbuf, sizeof(errbuf)),
                     CLM_ERR_CONFIG));
        (void)snprintf(want, sizeof(want),
                       "%s/b.conf:3: [outcomes] already given at %s/a.conf:1",
                       dir, dir);
        cr_assert(eq(str, errbuf, want));
}

Test(measures, rejects_missing_or_empty_directory)
{
        struct clm_measures *ms = NULL;
        char path[256], want[512];

        put("notes.txt", "nothing here\n");
        cr_assert(eq(int,
                     clm_measures_load_dir(dir, &ms, errbuf, sizeof(errbuf)),
                     CLM_ERR_CONFIG));
        (void)snprintf(want, sizeof(want), "%s: no *.conf measure files", dir);
        cr_assert(eq(str, errbuf, want));
        path_of("absent", path, sizeof(path));
        cr_assert(eq(int,
                     clm_measures_load_dir(path, &ms, errbuf, sizeof(errbuf)),
                     CLM_ERR_CONFIG));
        (void)snprintf(want, sizeof(want),
                       "%s: cannot open: No such file or directory", path);
        cr_assert(eq(str, errbuf, want));
        cr_assert(eq(int,
                     clm_measures_load_file(path, &ms, errbuf, sizeof(errbuf)),
                     CLM_ERR_CONFIG));
        cr_assert(eq(str, errbuf, want));
        cr_assert(eq(ptr, ms, NULL));
}

Test(measures, rejects_nul_byte)
{
        struct clm_measures *ms = NULL;
        char path[256], want[512];
        FILE *fp = fopen(path_of("t.conf", path, sizeof(path)), "w");

        cr_assert(not(eq(ptr, fp, NULL)));
        cr_assert(eq(sz, fwrite("[outcomes]\nsource = a\0b\n", 1, 24, fp),
                     (size_t)24));
        cr_assert(eq(int, fclose(fp), 0));
        cr_assert(eq(int,
                     clm_measures_load_file(path, &ms, errbuf, sizeof(errbuf)),
                     CLM_ERR_CONFIG));
        (void)snprintf(want, sizeof(want), "%s:2: line contains a NUL byte",
                       path);
        cr_assert(eq(str, errbuf, want));
}

/* ---- outcomes ------------------------------------------------------ */

Test(measures, planned_admissions_by_principal_diagnosis)
{
        static const char *const planned[] = {
                "Z51.0", "Z510",  "z51.11", "Z5112",   "Z51.89",
                "Z52.4", "Z5201", "Z48.22", "Z48.290",
        };
        static const char *const unplanned[] = {
                "Z51.81", "Z51.5", "Z48.01", "I21.4", "J18.9", "Z5", "", "Z51",
        };
        size_t i;

        for (i = 0; i < sizeof(planned) / sizeof(planned[0]); i++) {
                cr_assert(clm_measures_planned(shipped, planned[i]), "%s",
                          planned[i]);
        }
        for (i = 0; i < sizeof(unplanned) / sizeof(unplanned[0]); i++) {
                cr_assert(not(clm_measures_planned(shipped, unplanned[i])),
                          "%s", unplanned[i]);
        }
}

Test(measures, no_outcomes_section_plans_nothing)
{
        struct clm_measures *ms = load_ok(MINIMAL "denominator.dx = E11*\n");

        cr_assert(not(clm_measures_planned(ms, "Z510")));
        clm_measures_free(ms);
}

/* ---- digest and Lua table ------------------------------------------ */

static void
digest_of(const char *body, char out[CLM_MEASURES_DIGEST_HEX])
{
        struct clm_measures *ms = load_ok(body);

        (void)snprintf(out, CLM_MEASURES_DIGEST_HEX, "%s",
                       clm_measures_digest(ms));
        clm_measures_free(ms);
}

Test(measures, digest_is_stable_and_follows_the_codes)
{
        struct clm_measures *again = NULL;
        char a[CLM_MEASURES_DIGEST_HEX], b[CLM_MEASURES_DIGEST_HEX];

        cr_assert(eq(sz, strlen(clm_measures_digest(shipped)), (size_t)64));
        cr_assert(eq(sz,
                     strspn(clm_measures_digest(shipped), "0123456789abcdef"),
                     (size_t)64));
        cr_assert(eq(int,
                     clm_measures_load_dir(SHIPPED_DIR, &again, errbuf,
                                           sizeof(errbuf)),
                     CLM_OK));
        cr_assert(eq(str, (char *)clm_measures_digest(again),
                     (char *)clm_measures_digest(shipped)));
        clm_measures_free(again);

        digest_of(MINIMAL "denominator.codes = 99202-99205 G0438\n"
                          "benchmark = 1 2 3 4 5 6 7\n",
                  a);
        /* Same codes, other spelling and order; other name, comments. */
        digest_of("# comment\n[measure 900]\nname = Renamed\n"
                  "years = 2020-2021\ndirection = higher\n"
                  "denominator.codes = g0438 99204-99205 99202-99204\n"
                  "benchmark = 1 2 3 4 5 6 7\nsource = elsewhere\n",
                  b);
        cr_assert(eq(str, a, b));
        /* One code changed. */
        digest_of(MINIMAL "denominator.codes = 99202-99205 G0439\n"
                          "benchmark = 1 2 3 4 5 6 7\n",
                  b);
        cr_assert(not(eq(str, a, b)));
        /* A benchmark, an age, the planned list. */
        digest_of(MINIMAL "denominator.codes = 99202-99205 G0438\n"
                          "benchmark = 1 2 3 4 5 6 8\n",
                  b);
        cr_assert(not(eq(str, a, b)));
        digest_of(MINIMAL "denominator.codes = 99202-99205 G0438\n"
                          "benchmark = 1 2 3 4 5 6 7\nage = 18-\n",
                  b);
        cr_assert(not(eq(str, a, b)));
        digest_of(MINIMAL "denominator.codes = 99202-99205 G0438\n"
                          "benchmark = 1 2 3 4 5 6 7\n"
                          "[outcomes]\nplanned.dx = Z510\n",
                  b);
        cr_assert(not(eq(str, a, b)));
}

Test(measures, lua_table_format)
{
        struct clm_measures *ms =
                load_ok("[measure 112]\nname = b\nyears = 2025-2026\n"
                        "direction = higher\nage = 41-74\nsex = F\n"
                        "denominator.codes = 99213\n"
                        "[measure 001]\nname = a\nyears = 2017-2024\n"
                        "direction = lower\nage = 18-75\n"
                        "denominator.dx = E11*\n"
                        "[measure 134]\nname = c\nyears = 2020\n"
                        "direction = higher\nage = 12-\nsex = M\n"
                        "denominator.codes = 99213\n"
                        "[measure 110]\nname = d\nyears = 2020\n"
                        "direction = higher\ndenominator.codes = 99213\n");

        cr_assert(eq(str, (char *)clm_measures_lua_table(ms),
                     (char *)"001:2017:2024:18:75:*;110:2020:2020:-1:-1:*;"
                             "112:2025:2026:41:74:F;134:2020:2020:12:-1:M"));
        clm_measures_free(ms);
        ms = load_ok("[outcomes]\nplanned.dx = Z510\n");
        cr_assert(eq(str, (char *)clm_measures_lua_table(ms), (char *)""));
        cr_assert(eq(sz, clm_measures_count(ms), (size_t)0));
        clm_measures_free(ms);
        cr_assert(eq(int,
                     strncmp(clm_measures_lua_table(shipped),
                             "001:2017:2024:18:75:*;001:2025:2026:18:75:*;"
                             "110:2017:2024:-1:-1:*;112:2017:2019:51:74:F;",
                             88),
                     0),
                  "%s", clm_measures_lua_table(shipped));
}

/* ---- quality score ------------------------------------------------- */

/*
 * Year 2020, five measures, min_denominator 20:
 *
 *   A higher, benchmark 5000 5500 6000 6500 7000 7500 8000,
 *     26/40 = 6500 bp: at the 60th threshold          -> 155
 *   B lower,  benchmark 4000 3500 3000 2500 2000 1500 1000,
 *     9/50 = 1800 bp: beyond (below) the 70th (2000),
 *     not the 80th (1500)                             -> 170
 *   C higher, same benchmark as A,
 *     12/30 = 4000 bp: below the 30th                 -> 0 (scored)
 *   D higher, 5/10: den 10 < 20                       -> not scored
 *   E higher, no benchmark, 90/100 = 9000 bp          -> not scored
 *
 * score = (155 + 170 + 0) * 10000 / (200 * 3) = 3250000 / 600 = 5416.6
 * -> 5416 (truncated).
 */
#define SCORE_SET                                                              \
        "[measure A]\nname = a\nyears = 2020\ndirection = higher\n"            \
        "denominator.codes = 99213\n"                                          \
        "benchmark = 5000 5500 6000 6500 7000 7500 8000\n"                     \
        "[measure B]\nname = b\nyears = 2020\ndirection = lower\n"             \
        "denominator.codes = 99213\n"                                          \
        "benchmark = 4000 3500 3000 2500 2000 1500 1000\n"                     \
        "[measure C]\nname = c\nyears = 2020\ndirection = higher\n"            \
        "denominator.codes = 99213\n"                                          \
        "benchmark = 5000 5500 6000 6500 7000 7500 8000\n"                     \
        "[measure D]\nname = d\nyears = 2020\ndirection = higher\n"            \
        "denominator.codes = 99213\n"                                          \
        "benchmark = 5000 5500 6000 6500 7000 7500 8000\n"                     \
        "[measure E]\nname = e\nyears = 2020\ndirection = higher\n"            \
        "denominator.codes = 99213\n"                                          \
        "[measure F]\nname = f\nyears = 2019\ndirection = higher\n"            \
        "denominator.codes = 99213\n"                                          \
        "benchmark = 0 0 0 0 0 0 0\n"

Test(measures, quality_score_worked_example)
{
        static const struct clm_measure_count counts[] = {
                {"E", 100, 90, 1},  {"C", 30, 12, 0}, {"ZZZ", 100, 100, 0},
                {"A", 40, 26, 3},   {"D", 10, 5, 0},  {"B", 50, 9, 2},
                {"F", 100, 100, 0},
        };
        struct clm_measures *ms = load_ok(SCORE_SET);
        struct clm_measure_score out[8];
        int64_t score = 0;
        size_t n = clm_quality_score(ms, 2020, 20, counts, 7, out, 8, &score);

        cr_assert(eq(sz, n, (size_t)5));
        cr_assert(eq(str, (char *)out[0].def->id, (char *)"A"));
        cr_assert(eq(i64, out[0].den, 40));
        cr_assert(eq(i64, out[0].num, 26));
        cr_assert(eq(i64, out[0].excl, 3));
        cr_assert(eq(i64, out[0].rate_bp, 6500));
        cr_assert(out[0].scored);
        cr_assert(eq(int, out[0].points_x100, 155));
        cr_assert(eq(i64, out[1].rate_bp, 1800));
        cr_assert(eq(int, out[1].points_x100, 170));
        cr_assert(eq(i64, out[2].rate_bp, 4000));
        cr_assert(out[2].scored);
        cr_assert(eq(int, out[2].points_x100, 0));
        cr_assert(eq(i64, out[3].rate_bp, 5000));
        cr_assert(not(out[3].scored));
        cr_assert(eq(int, out[3].points_x100, 0));
        cr_assert(eq(i64, out[4].rate_bp, 9000));
        cr_assert(not(out[4].scored));
        cr_assert(eq(i64, score, 5416));

        /* min_denominator 10 scores D too: 5000 is the 30th -> 110.
         * (155 + 170 + 0 + 110) * 10000 / 800 = 5437.5 -> 5437. */
        n = clm_quality_score(ms, 2020, 10, counts, 7, out, 8, &score);
        cr_assert(eq(sz, n, (size_t)5));
        cr_assert(out[3].scored);
        cr_assert(eq(int, out[3].points_x100, 110));
        cr_assert(eq(i64, score, 5437));

        /* A short out still scores every measure. */
        n = clm_quality_score(ms, 2020, 20, counts, 7, out, 2, &score);
        cr_assert(eq(sz, n, (size_t)2));
        cr_assert(eq(i64, score, 5416));
        clm_measures_free(ms);
}

Test(measures, quality_score_missing_counts_and_nothing_scored)
{
        static const struct clm_measure_count counts[] = {{"A", 40, 26, 0}};
        struct clm_measures *ms = load_ok(SCORE_SET);
        struct clm_measure_score out[8];
        int64_t score = 0;
        size_t n = clm_quality_score(ms, 2020, 20, counts, 1, out, 8, &score);

        /* Only A has a denominator: 155 * 10000 / 200 = 7750. */
        cr_assert(eq(sz, n, (size_t)5));
        cr_assert(eq(i64, out[1].den, 0));
        cr_assert(eq(i64, out[1].rate_bp, -1));
        cr_assert(not(out[1].scored));
        cr_assert(eq(i64, score, 7750));
        n = clm_quality_score(ms, 2020, 1000, counts, 1, out, 8, &score);
        cr_assert(eq(sz, n, (size_t)5));
        cr_assert(eq(i64, score, -1));
        n = clm_quality_score(ms, 2020, 0, NULL, 0, out, 8, &score);
        cr_assert(eq(i64, out[0].rate_bp, -1));
        cr_assert(not(out[0].scored)); /* den 0 is never scored */
        cr_assert(eq(i64, score, -1));
        n = clm_quality_score(ms, 2030, 0, counts, 1, out, 8, &score);
        cr_assert(eq(sz, n, (size_t)0));
        cr_assert(eq(i64, score, -1));
        n = clm_quality_score(NULL, 2020, 0, counts, 1, out, 8, &score);
        cr_assert(eq(sz, n, (size_t)0));
        cr_assert(eq(i64, score, -1));
        clm_measures_free(ms);
}

/* Each threshold, approached from both sides, in both directions. */
Test(measures, quality_points_at_every_threshold)
{
        static const struct {
                const char *id;
                int64_t rate_bp;
                int points;
        } cases[] = {
                {"A", 0, 0},      {"A", 4999, 0},   {"A", 5000, 110},
                {"A", 5499, 110}, {"A", 5500, 125}, {"A", 6000, 140},
                {"A", 6500, 155}, {"A", 7000, 170}, {"A", 7500, 185},
                {"A", 7999, 185}, {"A", 8000, 200}, {"A", 10000, 200},
                {"B", 10000, 0},  {"B", 4001, 0},   {"B", 4000, 110},
                {"B", 3501, 110}, {"B", 3500, 125}, {"B", 3000, 140},
                {"B", 2500, 155}, {"B", 2000, 170}, {"B", 1500, 185},
                {"B", 1001, 185}, {"B", 1000, 200}, {"B", 0, 200},
        };
        struct clm_measures *ms = load_ok(SCORE_SET);
        struct clm_measure_score out[8];
        int64_t score;
        size_t i;

        for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct clm_measure_count c = {cases[i].id, 10000,
                                              cases[i].rate_bp, 0};
                size_t k = strcmp(cases[i].id, "A") == 0 ? 0 : 1;

                (void)clm_quality_score(ms, 2020, 20, &c, 1, out, 8, &score);
                cr_assert(eq(i64, out[k].rate_bp, cases[i].rate_bp));
                cr_assert(eq(int, out[k].points_x100, cases[i].points),
                          "%s at %lld", cases[i].id,
                          (long long)cases[i].rate_bp);
                cr_assert(
                        eq(i64, score, (int64_t)cases[i].points * 10000 / 200));
        }
        clm_measures_free(ms);
}
