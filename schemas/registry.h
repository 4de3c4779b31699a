#ifndef CLM_SCHEMAS_REGISTRY_H
#define CLM_SCHEMAS_REGISTRY_H

/*
 * The .avsc files of schemas/, embedded at build time so the daemon, the
 * tools and the tests use exactly the same bytes.
 */

#include <stddef.h>

/**
 * @brief Text of an embedded schema by file stem ("claim_event",
 * "claim_event.v1", "delivery_marker", ...).
 * @returns static text, or NULL if no such schema
 */
const char *clm_schema_text(const char *name);

/**
 * @brief Text of a schema reference from config: an embedded name, or a
 * path to a .avsc file (resolved against @p dir when relative).
 * @returns new malloc'd text (caller frees) or NULL with errstr
 */
char *clm_schema_load_ref(const char *ref,
                          const char *dir,
                          size_t *len,
                          char *errstr,
                          size_t errstr_size);

#endif
