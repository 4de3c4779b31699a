/*
 * hiredis connection handling and the claimsd_apply calls. Never decides
 * policy: it reports CLM_ERR_RETRY and lets the pipeline pause and back off.
 * Never logs payloads; error texts come from Redis or the transport.
 */
#include "consumers/redis_sink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include "daemon/rc.h"

extern const char *const clm_apply_lua;

struct clm_sink {
        redisContext *c;
        char *host;
        int port;
        char *unix_socket;
        char *user;
        char *password;
        int timeout_ms;
        uint64_t round_trips; /* replies waited for (see the header) */
        char errstr[256];
};

static char *
dup_or_null(const char *s)
{
        return (s != NULL && s[0] != '\0') ? strdup(s) : NULL;
}

struct clm_sink *
clm_sink_new(const struct clm_sink_conf *conf)
{
        struct clm_sink *sink = calloc(1, sizeof(*sink));

        if (sink == NULL) {
                return NULL;
        }
        sink->host = dup_or_null(conf->host);
        sink->port = conf->port;
        sink->unix_socket = dup_or_null(conf->unix_socket);
        sink->user = dup_or_null(conf->user);
        sink->password = dup_or_null(conf->password);
        sink->timeout_ms = conf->timeout_ms > 0 ? conf->timeout_ms : 5000;
        return sink;
}

void
clm_sink_free(struct clm_sink *sink)
{
        if (sink == NULL) {
                return;
        }
        clm_sink_disconnect(sink);
        free(sink->host);
        free(sink->unix_socket);
        free(sink->user);
        if (sink->password != NULL) {
                memset(sink->password, 0, strlen(sink->password));
                free(sink->password);
        }
        free(sink);
}

void
clm_sink_disconnect(struct clm_sink *sink)
{
        if (sink->c != NULL) {
                redisFree(sink->c);
                sink->c = NULL;
        }
}

bool
clm_sink_connected(const struct clm_sink *sink)
{
        return sink->c != NULL;
}

const char *
clm_sink_errstr(const struct clm_sink *sink)
{
        return sink->errstr;
}

/* Record a transport failure and drop the dead context. */
static int
transport_error(struct clm_sink *sink, const char *what)
{
        clm_errf(sink->errstr, sizeof(sink->errstr), "%s: %s", what,
                 sink->c != NULL && sink->c->errstr[0] != '\0'
                         ? sink->c->errstr
                         : "connection lost");
        clm_sink_disconnect(sink);
        return CLM_ERR_RETRY;
}

static int
expect_ok(struct clm_sink *sink, redisReply *r, const char *what)
{
        int rc = CLM_OK;

        if (r == NULL) {
                return transport_error(sink, what);
        }
        if (r->type == REDIS_REPLY_ERROR) {
                clm_errf(sink->errstr, sizeof(sink->errstr), "%s: %s", what,
                         r->str);
                rc = CLM_ERR_RETRY;
        }
        freeReplyObject(r);
        return rc;
}

int
clm_sink_connect(struct clm_sink *sink)
{
        struct timeval tv = {sink->timeout_ms / 1000,
                             (sink->timeout_ms % 1000) * 1000};
        redisReply *r;
        int rc;

        clm_sink_disconnect(sink);
        if (sink->unix_socket != NULL) {
                sink->c = redisConnectUnixWithTimeout(sink->unix_socket, tv);
        } else {
                sink->c = redisConnectWithTimeout(
                        sink->host ? sink->host : "127.0.0.1", sink->port, tv);
        }
        if (sink->c == NULL || sink->c->err) {
                return transport_error(sink, "connect");
        }
        if (redisSetTimeout(sink->c, tv) != REDIS_OK) {
                return transport_error(sink, "set timeout");
        }
        /* Keepalive only for TCP: on a unix socket it fails and leaves a
         * sticky error on the context. */
        if (sink->unix_socket == NULL &&
            redisEnableKeepAlive(sink->c) != REDIS_OK) {
                return transport_error(sink, "keepalive");
        }
        if (sink->password != NULL) {
                if (sink->user != NULL) {
                        r = redisCommand(sink->c, "AUTH %s %s", sink->user,
                                         sink->password);
                } else {
                        r = redisCommand(sink->c, "AUTH %s", sink->password);
                }
                sink->round_trips++;
                rc = expect_ok(sink, r, "AUTH");
                if (rc != CLM_OK) {
                        clm_sink_disconnect(sink);
                        return rc;
                }
        }
        r = redisCommand(sink->c, "FUNCTION LOAD REPLACE %s", clm_apply_lua);
        sink->round_trips++;
        rc = expect_ok(sink, r, "FUNCTION LOAD");
        if (rc != CLM_OK) {
                clm_sink_disconnect(sink);
        }
        return rc;
}

static int
ensure(struct clm_sink *sink)
{
        if (sink->c != NULL) {
                return CLM_OK;
        }
        return clm_sink_connect(sink);
}

int
clm_sink_read_offsets(struct clm_sink *sink,
                      const char *prefix,
                      size_t n,
                      const char *const *fields,
                      int64_t *out)
{
        char key[160];
        const char **argv = NULL;
        redisReply *r = NULL;
        int rc;

        if (n == 0) {
                return CLM_OK;
        }
        rc = ensure(sink);
        if (rc != CLM_OK) {
                return rc;
        }
        argv = malloc((n + 2) * sizeof(*argv));
        if (argv == NULL) {
                return CLM_ERR_NOMEM;
        }
        (void)snprintf(key, sizeof(key), "%soffset", prefix);
        argv[0] = "HMGET";
        argv[1] = key;
        for (size_t i = 0; i < n; i++) {
                argv[i + 2] = fields[i];
        }
        r = redisCommandArgv(sink->c, (int)(n + 2), argv, NULL);
        free(argv);
        sink->round_trips++;
        if (r == NULL) {
                return transport_error(sink, "HMGET offset");
        }
        if (r->type != REDIS_REPLY_ARRAY || r->elements != n) {
                clm_errf(sink->errstr, sizeof(sink->errstr), "HMGET offset: %s",
                         r->type == REDIS_REPLY_ERROR ? r->str
                                                      : "unexpected reply");
                freeReplyObject(r);
                return CLM_ERR_RETRY;
        }
        for (size_t i = 0; i < n; i++) {
                redisReply *e = r->element[i];

                out[i] = (e->type == REDIS_REPLY_STRING)
                                 ? strtoll(e->str, NULL, 10)
                                 : -1;
        }
        freeReplyObject(r);
        return CLM_OK;
}

static int64_t
elem_int(const redisReply *r, size_t i)
{
        if (i >= r->elements || r->element[i]->type != REDIS_REPLY_INTEGER) {
                return 0;
        }
        return (int64_t)r->element[i]->integer;
}

/* Parse one claimsd_apply reply; CLM_ERR_RETRY for error replies. */
static int
parse_result(struct clm_sink *sink,
             const redisReply *r,
             struct clm_apply_result *res)
{
        if (r->type == REDIS_REPLY_ERROR) {
                clm_errf(sink->errstr, sizeof(sink->errstr), "FCALL: %s",
                         r->str);
                return CLM_ERR_RETRY;
        }
        if (r->type != REDIS_REPLY_ARRAY || r->elements < 2) {
                clm_errf(sink->errstr, sizeof(sink->errstr),
                         "FCALL: unexpected reply type %d", r->type);
                return CLM_ERR_RETRY;
        }
        memset(res, 0, sizeof(*res));
        res->applied = elem_int(r, 0) == 1;
        res->offset = elem_int(r, 1);
        res->claims = elem_int(r, 2);
        res->duplicate = elem_int(r, 3);
        res->stale = elem_int(r, 4);
        res->dead_letter = elem_int(r, 5);
        res->unattributed = elem_int(r, 6);
        for (size_t i = 7; i < r->elements; i++) {
                if (res->n_conflicts < 16) {
                        res->conflicts[res->n_conflicts++] = elem_int(r, i);
                }
        }
        return CLM_OK;
}

int
clm_sink_send(struct clm_sink *sink,
              size_t n,
              const int *argc,
              const char **const *argv,
              const size_t *const *argvlen)
{
        int rc = ensure(sink);
        int done = 0;

        if (rc != CLM_OK) {
                return rc;
        }
        for (size_t i = 0; i < n; i++) {
                if (redisAppendCommandArgv(sink->c, argc[i], argv[i],
                                           argvlen[i]) != REDIS_OK) {
                        return transport_error(sink, "append");
                }
        }
        /* Push the bytes out now, so Redis works while we decode the next
         * batches; the replies are read by clm_sink_receive. */
        while (!done) {
                if (redisBufferWrite(sink->c, &done) != REDIS_OK) {
                        return transport_error(sink, "send");
                }
        }
        return CLM_OK;
}

int
clm_sink_receive(struct clm_sink *sink,
                 size_t n,
                 struct clm_apply_result *results)
{
        int first_err = CLM_OK;
        int rc;

        if (sink->c == NULL) {
                return CLM_ERR_RETRY;
        }
        if (n > 0) {
                sink->round_trips++;
        }
        for (size_t i = 0; i < n; i++) {
                void *reply = NULL;

                if (redisGetReply(sink->c, &reply) != REDIS_OK ||
                    reply == NULL) {
                        return transport_error(sink, "FCALL");
                }
                rc = parse_result(sink, reply, &results[i]);
                if (rc != CLM_OK && first_err == CLM_OK) {
                        first_err = rc;
                }
                freeReplyObject(reply);
        }
        if (first_err != CLM_OK &&
            (strstr(sink->errstr, "READONLY") != NULL ||
             strstr(sink->errstr, "Function not found") != NULL ||
             strstr(sink->errstr, "NOSCRIPT") != NULL)) {
                /* A failed-over replica or a lost library: reconnecting
                 * finds the primary again and reloads the function. */
                clm_sink_disconnect(sink);
        }
        return first_err;
}

int
clm_sink_apply(struct clm_sink *sink,
               size_t n,
               const int *argc,
               const char **const *argv,
               const size_t *const *argvlen,
               struct clm_apply_result *results)
{
        int rc = clm_sink_send(sink, n, argc, argv, argvlen);

        if (rc != CLM_OK) {
                return rc;
        }
        return clm_sink_receive(sink, n, results);
}

/* Check one reply of a transaction; EXEC's array is checked element-wise. */
static int
check_tx_reply(struct clm_sink *sink, const redisReply *r)
{
        const redisReply *bad = NULL;

        if (r->type == REDIS_REPLY_ERROR) {
                bad = r;
        } else if (r->type == REDIS_REPLY_ARRAY) {
                for (size_t i = 0; i < r->elements && bad == NULL; i++) {
                        if (r->element[i]->type == REDIS_REPLY_ERROR) {
                                bad = r->element[i];
                        }
                }
        } else if (r->type == REDIS_REPLY_NIL) {
                clm_errf(sink->errstr, sizeof(sink->errstr),
                         "transaction: EXEC aborted");
                return CLM_ERR_RETRY;
        }
        if (bad != NULL) {
                clm_errf(sink->errstr, sizeof(sink->errstr), "transaction: %s",
                         bad->str);
                return CLM_ERR_RETRY;
        }
        return CLM_OK;
}

int
clm_sink_transaction(struct clm_sink *sink,
                     size_t n,
                     const int *argc,
                     const char **const *argv,
                     const size_t *const *argvlen)
{
        const char *multi[1] = {"MULTI"};
        const char *exec[1] = {"EXEC"};
        int rc = ensure(sink);

        if (rc != CLM_OK) {
                return rc;
        }
        if (redisAppendCommandArgv(sink->c, 1, multi, NULL) != REDIS_OK) {
                return transport_error(sink, "transaction");
        }
        for (size_t i = 0; i < n; i++) {
                if (redisAppendCommandArgv(sink->c, argc[i], argv[i],
                                           argvlen[i]) != REDIS_OK) {
                        return transport_error(sink, "transaction");
                }
        }
        if (redisAppendCommandArgv(sink->c, 1, exec, NULL) != REDIS_OK) {
                return transport_error(sink, "transaction");
        }
        sink->round_trips++;
        /* Read every reply even after an error, so none is left behind. */
        for (size_t i = 0; i < n + 2; i++) {
                void *reply = NULL;

                if (redisGetReply(sink->c, &reply) != REDIS_OK ||
                    reply == NULL) {
                        return transport_error(sink, "transaction");
                }
                if (rc == CLM_OK) {
                        rc = check_tx_reply(sink, reply); /* first error */
                }
                freeReplyObject(reply);
        }
        return rc;
}

uint64_t
clm_sink_round_trips(const struct clm_sink *sink)
{
        return sink->round_trips;
}
