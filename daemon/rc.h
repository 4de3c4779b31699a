#ifndef CLM_DAEMON_RC_H
#define CLM_DAEMON_RC_H

#include <stddef.h>

/* Return codes shared by every module: 0 is success, errors are negative. */
enum clm_rc {
        CLM_OK = 0,
        CLM_ERR_NOMEM = -1,
        CLM_ERR_INVALID = -2,
        CLM_ERR_CONFIG = -3,
        CLM_ERR_DECODE = -4,
        CLM_ERR_SCHEMA = -5,
        CLM_ERR_KAFKA = -6,
        CLM_ERR_REDIS = -7,
        CLM_ERR_IO = -8,
        CLM_ERR_RETRY = -9,
        CLM_ERR_FATAL = -10,
};

/**
 * @brief Stable name of a return code ("CLM_ERR_REDIS"); never NULL.
 */
const char *clm_rc_str(int rc);

/**
 * @brief snprintf into an errstr buffer; a NULL or zero-size buffer is a
 * no-op. Always NUL-terminates.
 */
void clm_errf(char *errstr, size_t errstr_size, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

#endif
