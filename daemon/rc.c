/* Return-code names and the errstr helper used across the project. */
#include "daemon/rc.h"

#include <stdarg.h>
#include <stdio.h>

const char *
clm_rc_str(int rc)
{
        switch (rc) {
        case CLM_OK:
                return "CLM_OK";
        case CLM_ERR_NOMEM:
                return "CLM_ERR_NOMEM";
        case CLM_ERR_INVALID:
                return "CLM_ERR_INVALID";
        case CLM_ERR_CONFIG:
                return "CLM_ERR_CONFIG";
        case CLM_ERR_DECODE:
                return "CLM_ERR_DECODE";
        case CLM_ERR_SCHEMA:
                return "CLM_ERR_SCHEMA";
        case CLM_ERR_KAFKA:
                return "CLM_ERR_KAFKA";
        case CLM_ERR_REDIS:
                return "CLM_ERR_REDIS";
        case CLM_ERR_IO:
                return "CLM_ERR_IO";
        case CLM_ERR_RETRY:
                return "CLM_ERR_RETRY";
        case CLM_ERR_FATAL:
                return "CLM_ERR_FATAL";
        default:
                return "CLM_ERR_UNKNOWN";
        }
}

void
clm_errf(char *errstr, size_t errstr_size, const char *fmt, ...)
{
        va_list ap;

        if (errstr == NULL || errstr_size == 0) {
                return;
        }
        va_start(ap, fmt);
        (void)vsnprintf(errstr, errstr_size, fmt, ap);
        va_end(ap);
}
