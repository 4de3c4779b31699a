/* Synchronous Redis connections for tools and the payment engine. */
#include "consumers/redisconn.h"

#include <stdio.h>
#include <string.h>

#include "daemon/rc.h"

redisContext *
clm_redis_connect(const struct clm_config *cfg,
                  int timeout_ms,
                  char *errstr,
                  size_t errstr_size)
{
        struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
        redisContext *c;
        redisReply *r;

        if (cfg->redis_unix_socket != NULL && cfg->redis_unix_socket[0]) {
                c = redisConnectUnixWithTimeout(cfg->redis_unix_socket, tv);
        } else {
                c = redisConnectWithTimeout(cfg->redis_host, cfg->redis_port,
                                            tv);
        }
        if (c == NULL || c->err) {
                clm_errf(errstr, errstr_size, "redis: %s",
                         c ? c->errstr : "cannot connect");
                redisFree(c);
                return NULL;
        }
        (void)redisSetTimeout(c, tv);
        if (cfg->redis_password == NULL || cfg->redis_password[0] == '\0') {
                return c;
        }
        if (cfg->redis_user != NULL && cfg->redis_user[0]) {
                r = redisCommand(c, "AUTH %s %s", cfg->redis_user,
                                 cfg->redis_password);
        } else {
                r = redisCommand(c, "AUTH %s", cfg->redis_password);
        }
        if (r == NULL || r->type == REDIS_REPLY_ERROR) {
                clm_errf(errstr, errstr_size, "redis AUTH failed%s%s",
                         r != NULL ? ": " : "", r != NULL ? r->str : "");
                if (r != NULL) {
                        freeReplyObject(r);
                }
                redisFree(c);
                return NULL;
        }
        freeReplyObject(r);
        return c;
}

const char *
clm_redis_hash_field(const redisReply *h, const char *name)
{
        if (h == NULL || h->type != REDIS_REPLY_ARRAY) {
                return NULL;
        }
        for (size_t i = 0; i + 1 < h->elements; i += 2) {
                if (strcmp(h->element[i]->str, name) == 0) {
                        return h->element[i + 1]->str;
                }
        }
        return NULL;
}
