/* main.c - bin/articles-sync: carries the changes of a source database
 * (Base A) to the REST core, and so to its database (Base B), directly or
 * through Kafka. Reads the configuration, opens what the command needs and
 * runs it; the work lives in the modules (source, changes, event, applier,
 * pipeline, verify, report). */
#include <malloc.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "http_client.h"
#include "kafka.h"
#include "log.h"
#include "metrics.h"
#include "ops.h"
#include "pipeline.h"
#include "report.h"
#include "source.h"
#include "upstream_metrics.h"
#include "verify.h"

typedef struct settings {
    const char *command;
    const char *source;
    const char *rest_api_url;
    const char *rest_api_token;
    const char *brokers;
    const char *topic;
    const char *group;
    const char *transport;
    bool once, follow;
    int64_t batch;
    int64_t poll_ms;
    int64_t partitions;
    const char *metrics_host;
    int64_t metrics_port;
    const char *metrics_token;
    const char *metrics_token_file;
    const char *dead_letter_file;
    const char *pushgateway_url;
    const char *textfile;
    int64_t upstream_timeout_ms;
    int64_t max_differences;
    const char *log_format;
    const char *log_level;
} settings_t;

static const char *const transports[] = {"auto", "direct", "kafka", NULL};
static const char *const commands[] = {"init", "produce", "consume", "run", "verify", "status",
                                       NULL};

static atomic_bool stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    atomic_store(&stop_requested, true);
}

#define OPT_INT(flag, env, def, help, field, min, max) \
    {flag, env, CONFIG_INT, def, help, &st->field, min, max, NULL}
#define OPT_STR(flag, env, def, help, field) {flag, env, CONFIG_STRING, def, help, &st->field, 0, 0, NULL}

static void parse_settings(settings_t *st, int argc, char **argv)
{
    const config_option_t opts[] = {
        OPT_STR("source", "SOURCE_DATABASE_URL", NULL,
                "the source database (Base A): sqlite:PATH or postgresql://user:pw@host/db",
                source),
        OPT_STR("rest-api-url", "REST_API_URL", "http://127.0.0.1:5000",
                "the REST core the changes are applied to", rest_api_url),
        OPT_STR("rest-api-token", "REST_API_TOKEN", NULL,
                "bearer token sent to the REST core (when it requires one for writes)",
                rest_api_token),
        OPT_STR("brokers", "KAFKA_BROKERS", "",
                "Kafka bootstrap servers, host:port[,...]; empty means the direct transport",
                brokers),
        OPT_STR("topic", "KAFKA_TOPIC", "articles", "Kafka topic of the events", topic),
        OPT_STR("group", "SYNC_GROUP", "articles-sync", "Kafka consumer group", group),
        OPT_INT("partitions", "KAFKA_PARTITIONS", "6",
                "partitions of the topic and of TOPIC.dlq when the daemon creates them (existing "
                "topics are left as they are); consumers of one group share them",
                partitions, 1, 10000),
        {"transport", "SYNC_TRANSPORT", CONFIG_CHOICE, "auto",
         "how changes travel: kafka, direct (no broker), or auto (kafka when --brokers is set)",
         &st->transport, 0, 0, transports},
        {"once", "SYNC_ONCE", CONFIG_FLAG, "false",
         "run, produce, consume: stop once caught up (a scheduled run)", &st->once, 0, 0, NULL},
        {"follow", "SYNC_FOLLOW", CONFIG_FLAG, "false",
         "run, produce, consume: keep following new changes (a service)", &st->follow, 0, 0,
         NULL},
        OPT_INT("batch-size", "SYNC_BATCH_SIZE", "1000",
                "changes per read and events per request to the REST core (at most the REST "
                "core's --max-bulk-ops)",
                batch, 1, 10000),
        OPT_INT("poll-interval-ms", "SYNC_POLL_INTERVAL_MS", "100",
                "--follow: pause between looks at the change log when caught up", poll_ms, 1,
                3600000),
        OPT_STR("metrics-host", "METRICS_HOST", "127.0.0.1",
                "address of /metrics and /health while following", metrics_host),
        OPT_INT("metrics-port", "METRICS_PORT", "9400",
                "port of /metrics and /health while following (0: any free port)", metrics_port,
                0, 65535),
        OPS_TOKEN_OPTIONS(&st->metrics_token, &st->metrics_token_file),
        OPT_STR("dead-letter-file", "DEAD_LETTER_FILE", "articles-sync-dead-letters.jsonl",
                "direct transport: where changes the REST core refuses for good are written "
                "(JSON lines); Kafka uses the topic TOPIC.dlq",
                dead_letter_file),
        OPT_STR("pushgateway-url", "PUSHGATEWAY_URL", NULL,
                "--once: push the run's metrics to this Prometheus Pushgateway", pushgateway_url),
        OPT_STR("textfile", "SYNC_TEXTFILE", NULL,
                "--once: write the run's metrics to this file (node exporter's textfile "
                "collector)",
                textfile),
        OPT_INT("upstream-timeout-ms", "UPSTREAM_TIMEOUT_MS", "30000",
                "longest one request to the REST core may take", upstream_timeout_ms, 100,
                600000),
        OPT_INT("max-differences", "SYNC_MAX_DIFFERENCES", "100",
                "verify: differences printed (all are counted)", max_differences, 0, 100000000),
        CONFIG_LOG_OPTIONS(&st->log_format, &st->log_level),
    };
    static const config_program_t prog = {
        "articles-sync", VERSION,
        "Carries every change of a source database through Kafka (or directly) into the REST "
        "core.",
        "COMMAND [OPTIONS]",
        "Commands:\n"
        "  init      install change capture on the source (change log, triggers, snapshot)\n"
        "  produce   publish the source's changes to Kafka\n"
        "  consume   apply Kafka's events to the REST core\n"
        "  run       both in one process: --once (exit when caught up) or --follow\n"
        "  verify    compare the source and the REST core; exit 1 on drift\n"
        "  status    print the checkpoint, the backlog and the consumer lag\n"
        "Exit status: 0 done, 1 failed or drift found, 2 bad usage."};
    char err[256];
    const char *pos[1];
    size_t npos = 0;
    int rc = config_parse(&prog, opts, sizeof opts / sizeof opts[0], argc, argv, pos, 1, &npos,
                          err, sizeof err);
    if (rc == CONFIG_EXIT)
        exit(0);
    if (rc == 0 && npos == 0) {
        snprintf(err, sizeof err, "a command is needed: init, produce, consume, run, verify "
                                  "or status (see --help)");
        rc = CONFIG_EINVAL;
    }
    if (rc == 0) {
        st->command = pos[0];
        bool known = false;
        for (const char *const *c = commands; *c; c++)
            known = known || strcmp(*c, st->command) == 0;
        if (!known) {
            snprintf(err, sizeof err, "unknown command '%.40s' (see --help)", st->command);
            rc = CONFIG_EINVAL;
        }
    }
    if (rc == 0 && st->once && st->follow) {
        snprintf(err, sizeof err, "--once and --follow exclude each other");
        rc = CONFIG_EINVAL;
    }
    if (rc < 0) {
        fprintf(stderr, "articles-sync: %s\n", err);
        exit(2);
    }
}

static bool use_kafka(const settings_t *st)
{
    if (strcmp(st->transport, "auto") == 0)
        return st->brokers && *st->brokers;
    return strcmp(st->transport, "kafka") == 0;
}

/* Everything a command may need, opened on demand. */
typedef struct daemon {
    settings_t st;
    metrics_registry_t *reg;
    upstream_metrics_t *upstream;
    pipeline_metrics_t pm;
    pipeline_summary_t summary;
    source_t *src;
    http_client_t *rest;
    char auth[512];
    ops_token_t metrics_token; /* what /metrics and /health need while following */
} daemon_t;

static int need_source(daemon_t *d)
{
    char err[256];
    if (!d->st.source || !*d->st.source) {
        fprintf(stderr, "articles-sync: %s needs the source database: set SOURCE_DATABASE_URL "
                        "or --source\n",
                d->st.command);
        return 2;
    }
    if (source_check_url(d->st.source, err, sizeof err) < 0) {
        fprintf(stderr, "articles-sync: --source: %s\n", err);
        return 2;
    }
    if (source_open(d->st.source, &d->src, err, sizeof err) < 0) {
        log_error("cannot open the source: %s", err);
        return 1;
    }
    return 0;
}

static int need_rest(daemon_t *d)
{
    char err[256];
    http_client_config_t cc = {.base_url = d->st.rest_api_url,
                               .timeout_ms = d->st.upstream_timeout_ms};
    upstream_metrics_attach(d->upstream, &cc);
    if (http_client_new(&cc, &d->rest, err, sizeof err) < 0) {
        fprintf(stderr, "articles-sync: --rest-api-url: %s\n", err);
        return 2;
    }
    upstream_metrics_watch(d->upstream, d->rest);
    if (d->st.rest_api_token && *d->st.rest_api_token)
        snprintf(d->auth, sizeof d->auth, "Bearer %s", d->st.rest_api_token);
    return 0;
}

static int cmd_init(daemon_t *d)
{
    int rc = need_source(d);
    if (rc)
        return rc;
    int64_t snap = 0;
    char err[256];
    if (source_init(d->src, &snap, err, sizeof err) < 0) {
        log_error("init failed: %s", err);
        return 1;
    }
    printf("change capture is installed on the source; %lld existing articles were logged "
           "for the first run\n",
           (long long)snap);
    return 0;
}

static void print_summary(const daemon_t *d, double seconds, bool kafka)
{
    const pipeline_summary_t *s = &d->summary;
    printf("changes read: %lld\n", (long long)atomic_load(&s->read));
    if (kafka)
        printf("events produced: %lld\n", (long long)atomic_load(&s->produced));
    printf("applied: %lld\ndead-lettered: %lld\ntime: %.3f s\n",
           (long long)atomic_load(&s->applied), (long long)atomic_load(&s->dead_lettered),
           seconds);
}

/* A scheduled run's metrics go where Prometheus can still see them. */
static void report_run(daemon_t *d, bool ok, double seconds)
{
    metric_t *success = metrics_gauge(d->reg, "sync_last_run_success",
                                      "1 when the last scheduled run caught up, else 0.", 0, NULL);
    metric_t *duration = metrics_gauge(d->reg, "sync_last_run_duration_seconds",
                                       "How long the last scheduled run took.", 0, NULL);
    metric_t *when = metrics_gauge(d->reg, "sync_last_run_timestamp_seconds",
                                   "When the last scheduled run ended (unix time).", 0, NULL);
    if (success && duration && when) {
        metric_set(success, NULL, ok);
        metric_set(duration, NULL, seconds);
        metric_set(when, NULL, (double)time(NULL));
    }
    char err[256];
    if (d->st.pushgateway_url && *d->st.pushgateway_url &&
        report_push(d->st.pushgateway_url, d->reg, err, sizeof err) < 0)
        log_warn("%s", err);
    if (d->st.textfile && *d->st.textfile && report_textfile(d->st.textfile, d->reg, err,
                                                            sizeof err) < 0)
        log_warn("%s", err);
}

enum { RUN_BOTH, RUN_PRODUCE, RUN_CONSUME };

static const char *const run_names[] = {"run", "produce", "consume"};

/* Opens what the loop needs: the source unless it only consumes, the REST
 * core unless it only produces. Returns 0 or an exit status. */
static int open_for(daemon_t *d, int what, bool kafka)
{
    if (kafka && !(d->st.brokers && *d->st.brokers)) {
        fprintf(stderr, "articles-sync: %s through Kafka needs KAFKA_BROKERS (--brokers)\n",
                run_names[what]);
        return 2;
    }
    int rc = what == RUN_CONSUME ? 0 : need_source(d);
    if (!rc && what != RUN_PRODUCE)
        rc = need_rest(d);
    if (rc || !kafka)
        return rc;
    /* A broker that does not create topics on first use is common in
     * production; the events' topic and its dead letters must exist. */
    char dlq[256], err[256];
    pipeline_dlq_topic(d->st.topic, dlq, sizeof dlq);
    const char *topics[] = {d->st.topic, dlq};
    if (kafka_ensure_topics(d->st.brokers, topics, 2, (int)d->st.partitions, err, sizeof err) < 0) {
        log_error("%s", err);
        return 1;
    }
    return 0;
}

static int run_loop(pipeline_t *p, int what, bool kafka)
{
    if (what == RUN_PRODUCE)
        return pipeline_produce(p);
    if (what == RUN_CONSUME)
        return pipeline_consume(p);
    return kafka ? pipeline_run_kafka(p) : pipeline_direct(p);
}

static int finish_run(daemon_t *d, const pipeline_t *p, int rc, bool follow, bool kafka,
                      double seconds)
{
    if (!follow) {
        print_summary(d, seconds, kafka);
        report_run(d, rc == 0, seconds);
    }
    if (rc == PIPELINE_ESTOPPED && follow)
        return 0;
    if (rc == PIPELINE_ESTOPPED) {
        fprintf(stderr, "articles-sync: stopped by a signal before catching up; the next run "
                        "continues from where this one stopped\n");
        return 1;
    }
    if (rc < 0) {
        fprintf(stderr, "articles-sync: %s\n", p->err);
        return 1;
    }
    return 0;
}

static int cmd_run(daemon_t *d, int what)
{
    bool kafka = what != RUN_BOTH || use_kafka(&d->st);
    int rc = open_for(d, what, kafka);
    if (rc)
        return rc;
    bool follow = d->st.follow;
    report_server_t *rs = NULL;
    char err[256];
    if (follow && report_serve(d->st.metrics_host, (int)d->st.metrics_port, d->reg, d->rest,
                               &d->metrics_token, &rs, err, sizeof err) < 0) {
        log_error("cannot serve /metrics on %s:%lld: %s", d->st.metrics_host,
                  (long long)d->st.metrics_port, err);
        return 1;
    }
    if (rs && d->metrics_token.len)
        log_info("a metrics token is configured: /metrics and /health need it");
    FILE *dl = NULL;
    if (!kafka && d->st.dead_letter_file && *d->st.dead_letter_file &&
        !(dl = fopen(d->st.dead_letter_file, "a"))) {
        log_error("cannot open the dead-letter file %s: %m", d->st.dead_letter_file);
        report_stop(rs);
        return 1;
    }
    pipeline_t p = {.src = d->src,
                    .apply = {.client = d->rest,
                              .authorization = d->auth[0] ? d->auth : NULL,
                              .max_batch = (size_t)d->st.batch},
                    .batch = (size_t)d->st.batch,
                    .poll_ms = d->st.poll_ms,
                    .follow = follow,
                    .stop = &stop_requested,
                    .dead_letters = dl,
                    .brokers = d->st.brokers,
                    .topic = d->st.topic,
                    .group = d->st.group,
                    .metrics = &d->pm,
                    .summary = &d->summary};
    log_info("%s: %s%s%s", follow ? "following" : "catching up", run_names[what],
             kafka ? " through Kafka topic " : ", direct transport to ",
             kafka ? d->st.topic : d->st.rest_api_url);
    double t0 = http_now();
    rc = run_loop(&p, what, kafka);
    double seconds = http_now() - t0;
    if (dl)
        fclose(dl);
    report_stop(rs);
    return finish_run(d, &p, rc, follow, kafka, seconds);
}

static int cmd_verify(daemon_t *d)
{
    int rc = need_source(d);
    if (!rc)
        rc = need_rest(d);
    if (rc)
        return rc;
    verify_result_t res;
    char err[256];
    if (verify_run(d->src, d->rest, d->auth[0] ? d->auth : NULL, stdout, d->st.max_differences,
                   &res, err, sizeof err) < 0) {
        fprintf(stderr, "articles-sync: verify: %s\n", err);
        return 1;
    }
    bool drift = res.missing || res.extra || res.different;
    printf("source: %lld articles, REST core: %lld; missing %lld, extra %lld, different %lld: "
           "%s\n",
           (long long)res.source_rows, (long long)res.rest_rows, (long long)res.missing,
           (long long)res.extra, (long long)res.different, drift ? "DRIFT" : "in sync");
    return drift ? 1 : 0;
}

static int cmd_status(daemon_t *d)
{
    int rc = need_source(d);
    if (rc)
        return rc;
    int64_t ckpt = 0, backlog = 0, max_seq = 0;
    char err[256];
    if (source_checkpoint_get(d->src, PIPELINE_CHECKPOINT, &ckpt, err, sizeof err) < 0 ||
        source_backlog(d->src, ckpt, &backlog, &max_seq, err, sizeof err) < 0) {
        fprintf(stderr, "articles-sync: status: %s\n", err);
        return 1;
    }
    printf("checkpoint: %lld\nlast change: %lld\nbacklog: %lld\n", (long long)ckpt,
           (long long)max_seq, (long long)backlog);
    return 0;
}

int main(int argc, char **argv)
{
    /* Batches of a megabyte come and go all the time; from the heap they
     * would leave it fragmented and large. Fixed, the threshold keeps them
     * in mappings of their own, returned when freed. */
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
    daemon_t d = {0};
    parse_settings(&d.st, argc, argv);
    char terr[512];
    if (ops_token_load(&d.metrics_token, d.st.metrics_token, d.st.metrics_token_file, terr,
                       sizeof terr) < 0) {
        fprintf(stderr, "articles-sync: %s\n", terr);
        return 2;
    }
    if (log_init("articles-sync", d.st.log_format, d.st.log_level) < 0)
        return 2;
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    int rc = 1;
    d.reg = metrics_new();
    if (!d.reg || metrics_add_process(d.reg) < 0 ||
        metrics_add_build_info(d.reg, "articles-sync", VERSION) < 0 ||
        !(d.upstream = upstream_metrics_new(d.reg)) || pipeline_metrics_new(d.reg, &d.pm) < 0) {
        log_error("out of memory");
        goto done;
    }
    const char *c = d.st.command;
    if (strcmp(c, "init") == 0)
        rc = cmd_init(&d);
    else if (strcmp(c, "run") == 0)
        rc = cmd_run(&d, RUN_BOTH);
    else if (strcmp(c, "produce") == 0)
        rc = cmd_run(&d, RUN_PRODUCE);
    else if (strcmp(c, "consume") == 0)
        rc = cmd_run(&d, RUN_CONSUME);
    else if (strcmp(c, "verify") == 0)
        rc = cmd_verify(&d);
    else
        rc = cmd_status(&d);

done:
    http_client_free(d.rest);
    source_close(d.src);
    metrics_free(d.reg);
    upstream_metrics_free(d.upstream);
    ops_token_clear(&d.metrics_token);
    return rc;
}
