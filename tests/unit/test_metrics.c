/* test_metrics.c - unit tests of the Prometheus registry in lib/metrics.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* needs the four headers above included first */

#include <fcntl.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "metrics.h"

/* metrics_new() always registers the drop counter first. */
#define DROPPED_HEAD                                                                               \
    "# HELP metrics_series_dropped_total Metric updates dropped because their family "             \
    "already had the maximum number of label combinations.\n"                                      \
    "# TYPE metrics_series_dropped_total counter\n"

static char *render(metrics_registry_t *reg)
{
    buf_t b = {0};
    assert_int_equal(metrics_render(reg, &b), 0);
    return buf_detach(&b);
}

/* Value of the sample line that starts with `series ` (name and labels as
 * rendered); fails the test when there is no such line. */
static double sample_value(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, series, n) == 0 && p[n] == ' ')
            return strtod(p + n + 1, NULL);
    }
    fail_msg("no sample %s in:\n%s", series, text);
    return 0;
}

static size_t count_lines_starting(const char *text, const char *prefix)
{
    size_t count = 0, n = strlen(prefix);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, prefix, n) == 0)
            count++;
    return count;
}

static void test_render_small_registry(void **state)
{
    (void)state;
    metrics_registry_t *reg = metrics_new();
    assert_non_null(reg);
    const char *labels[] = {"method", "code"};
    metric_t *req = metrics_counter(reg, "http_requests_total", "Requests answered.", 2, labels);
    metric_t *rows = metrics_gauge(reg, "articles_rows", "Articles stored.", 0, NULL);
    const double bounds[] = {0.5, 1};
    metric_t *lat =
        metrics_histogram(reg, "http_request_duration_seconds", "Latency.", 0, NULL, bounds, 2);
    assert_non_null(req);
    assert_non_null(rows);
    assert_non_null(lat);
    metric_inc(req, (const char *[]){"GET", "200"}, 1);
    metric_inc(req, (const char *[]){"POST", "201"}, 2);
    metric_inc(req, (const char *[]){"GET", "200"}, 1.5);
    metric_set(rows, NULL, 42);
    metric_observe(lat, NULL, 0.25);
    metric_observe(lat, NULL, 2);

    char *text = render(reg);
    assert_string_equal(text, DROPPED_HEAD "metrics_series_dropped_total 0\n"
                                           "# HELP http_requests_total Requests answered.\n"
                                           "# TYPE http_requests_total counter\n"
                                           "http_requests_total{method=\"GET\",code=\"200\"} 2.5\n"
                                           "http_requests_total{method=\"POST\",code=\"201\"} 2\n"
                                           "# HELP articles_rows Articles stored.\n"
                                           "# TYPE articles_rows gauge\n"
                                           "articles_rows 42\n"
                                           "# HELP http_request_duration_seconds Latency.\n"
                                           "# TYPE http_request_duration_seconds histogram\n"
                                           "http_request_duration_seconds_bucket{le=\"0.5\"} 1\n"
                                           "http_request_duration_seconds_bucket{le=\"1\"} 1\n"
                                           "http_request_duration_seconds_bucket{le=\"+Inf\"} 2\n"
                                           "http_request_duration_seconds_sum 2.25\n"
                                           "http_request_duration_seconds_count 2\n");
    free(text);
    metrics_free(reg);
}

static void test_unlabelled_families_start_at_zero(void **state)
{
    (void)state;
    metrics_registry_t *reg = metrics_new();
    assert_non_null(metrics_counter(reg, "jobs_total", "Jobs.", 0, NULL));
    assert_non_null(metrics_histogram(reg, "wait_seconds", "Wait.", 0, NULL, (double[]){1}, 1));
    /* A labelled family has no series until its first update. */
    assert_non_null(metrics_gauge(reg, "queue_depth", "Depth.", 1, (const char *[]){"queue"}));
    char *text = render(reg);
    assert_string_equal(text, DROPPED_HEAD "metrics_series_dropped_total 0\n"
                                           "# HELP jobs_total Jobs.\n"
                                           "# TYPE jobs_total counter\n"
                                           "jobs_total 0\n"
                                           "# HELP wait_seconds Wait.\n"
                                           "# TYPE wait_seconds histogram\n"
                                           "wait_seconds_bucket{le=\"1\"} 0\n"
                                           "wait_seconds_bucket{le=\"+Inf\"} 0\n"
                                           "wait_seconds_sum 0\n"
                                           "wait_seconds_count 0\n"
                                           "# HELP queue_depth Depth.\n"
                                           "# TYPE queue_depth gauge\n");
    free(text);
    metrics_free(reg);
}

static void test_render_appends(void **state)
{
    (void)state;
    metrics_registry_t *reg = metrics_new();
    buf_t b = {0};
    buf_puts(&b, "before\n");
    assert_int_equal(metrics_render(reg, &b), 0);
    assert_string_equal(b.data, "before\n" DROPPED_HEAD "metrics_series_dropped_total 0\n");
    buf_free(&b);
    metrics_free(reg);
}

static void test_escaping(void **state)
{
    (void)state;
    metrics_registry_t *reg = metrics_new();
    metric_t *g = metrics_gauge(reg, "escaped", "Back\\slash, \"quotes\" and\nnewline.", 1,
                                (const char *[]){"path"});
    assert_non_null(g);
    metric_set(g, (const char *[]){"a\\b\"c\nd"}, 1);
    /* Invalid UTF-8 would make Prometheus drop the whole scrape. */
    metric_set(g, (const char *[]){"x\xff\xc3(y\xe2\x82\xac"}, 2);
    char *text = render(reg);
    const char *expect = "# HELP escaped Back\\\\slash, \"quotes\" and\\nnewline.\n"
                         "# TYPE escaped gauge\n"
                         "escaped{path=\"a\\\\b\\\"c\\nd\"} 1\n"
                         "escaped{path=\"x\xef\xbf\xbd\xef\xbf\xbd(y\xe2\x82\xac\"} 2\n";
    const char *got = strstr(text, "# HELP escaped");
    assert_non_null(got);
    assert_string_equal(got, expect);
    free(text);
    metrics_free(reg);
}

static void test_histogram_buckets_are_cumulative(void **state)
{
    (void)state;
    metrics_registry_t *reg = metrics_new();
    const double bounds[] = {0.5, 1, 2.5};
    metric_t *h =
        metrics_histogram(reg, "size_bytes", "Sizes.", 1, (const char *[]){"kind"}, bounds, 3);
    assert_non_null(h);
    const char *a[] = {"a"};
    /* Bounds are inclusive: 0.5 lands in le="0.5". */
    const double obs[] = {0.25, 0.5, 0.75, 2, 3, -1};
    for (size_t i = 0; i < sizeof obs / sizeof obs[0]; i++)
        metric_observe(h, a, obs[i]);
    metric_observe(h, a, NAN); /* ignored */
    metric_observe(h, (const char *[]){"b"}, 100);
    char *text = render(reg);
    const char *expect = "# HELP size_bytes Sizes.\n"
                         "# TYPE size_bytes histogram\n"
                         "size_bytes_bucket{kind=\"a\",le=\"0.5\"} 3\n"
                         "size_bytes_bucket{kind=\"a\",le=\"1\"} 4\n"
                         "size_bytes_bucket{kind=\"a\",le=\"2.5\"} 5\n"
                         "size_bytes_bucket{kind=\"a\",le=\"+Inf\"} 6\n"
                         "size_bytes_sum{kind=\"a\"} 5.5\n"
                         "size_bytes_count{kind=\"a\"} 6\n"
                         "size_bytes_bucket{kind=\"b\",le=\"0.5\"} 0\n"
                         "size_bytes_bucket{kind=\"b\",le=\"1\"} 0\n"
                         "size_bytes_bucket{kind=\"b\",le=\"2.5\"} 0\n"
                         "size_bytes_bucket{kind=\"b\",le=\"+Inf\"} 1\n"
                         "size_bytes_sum{kind=\"b\"} 100\n"
                         "size_bytes_count{kind=\"b\"} 1\n";
    assert_string_equal(strstr(text, "# HELP size_bytes"), expect);
    free(text);
    metrics_free(reg);
}

static void test_latency_buckets(void **state)
{
    (void)state;
    assert_true(metrics_latency_buckets_len > 5);
    assert_true(metrics_latency_buckets[0] <= 0.0005);
    assert_true(metrics_latency_buckets[metrics_latency_buckets_len - 1] >= 5);
    for (size_t i = 1; i < metrics_latency_buckets_len; i++)
        assert_true(metrics_latency_buckets[i] > metrics_latency_buckets[i - 1]);
    metrics_registry_t *reg = metrics_new();
    metric_t *h = metrics_histogram(reg, "lat_seconds", "L.", 0, NULL, metrics_latency_buckets,
                                    metrics_latency_buckets_len);
    assert_non_null(h);
    metric_observe(h, NULL, 0.003);
    char *text = render(reg);
    assert_int_equal(count_lines_starting(text, "lat_seconds_bucket{"),
                     metrics_latency_buckets_len + 1);
    assert_int_equal(sample_value(text, "lat_seconds_bucket{le=\"0.0025\"}"), 0);
    assert_int_equal(sample_value(text, "lat_seconds_bucket{le=\"0.005\"}"), 1);
    free(text);
    metrics_free(reg);
}

static void test_number_format(void **state)
{
    (void)state;
    static const struct {
        double v;
        const char *text;
    } cases[] = {
        {0, "0"},
        {-3, "-3"},
        {1.5, "1.5"},
        {0.1, "0.1"},
        {1.0 / 3, "0.3333333333333333"},
        {9007199254740992.0, "9007199254740992"},
        {1e20, "1e+20"},
        {1e300, "1e+300"},
        {2.5e-7, "2.5e-07"},
        {INFINITY, "+Inf"},
        {-INFINITY, "-Inf"},
        {NAN, "NaN"},
    };
    metrics_registry_t *reg = metrics_new();
    metric_t *g = metrics_gauge(reg, "num", "N.", 1, (const char *[]){"i"});
    char key[16], line[64];
    size_t n = sizeof cases / sizeof cases[0];
    for (size_t i = 0; i < n; i++) {
        snprintf(key, sizeof key, "%zu", i);
        metric_set(g, (const char *[]){key}, cases[i].v);
    }
    char *text = render(reg);
    for (size_t i = 0; i < n; i++) {
        snprintf(line, sizeof line, "num{i=\"%zu\"} %s\n", i, cases[i].text);
        if (!strstr(text, line))
            fail_msg("missing %s in\n%s", line, text);
    }
    free(text);
    metrics_free(reg);
}

static void test_numbers_round_trip(void **state)
{
    (void)state;
    metrics_registry_t *reg = metrics_new();
    metric_t *g = metrics_gauge(reg, "rt", "R.", 0, NULL);
    srand(7);
    for (int i = 0; i < 2000; i++) {
        double v = ((double)rand() / RAND_MAX - 0.5) * pow(10, rand() % 40 - 20);
        metric_set(g, NULL, v);
        char *text = render(reg);
        const char *p = strstr(text, "\nrt ");
        assert_non_null(p);
        assert_true(strtod(p + 4, NULL) == v);
        assert_null(strpbrk(p + 4, ",")); /* never a locale's decimal comma */
        free(text);
    }
    metrics_free(reg);
}

static void test_c_locale_numbers(void **state)
{
    (void)state;
    const char *saved = setlocale(LC_NUMERIC, NULL);
    char *old = strdup(saved ? saved : "C");
    if (!setlocale(LC_NUMERIC, "de_DE.UTF-8") && !setlocale(LC_NUMERIC, "fr_FR.UTF-8")) {
        free(old);
        skip();
    }
    metrics_registry_t *reg = metrics_new();
    metric_t *g = metrics_gauge(reg, "half", "H.", 0, NULL);
    metric_set(g, NULL, 0.5);
    char *text = render(reg);
    setlocale(LC_NUMERIC, old);
    free(old);
    assert_non_null(strstr(text, "\nhalf 0.5\n"));
    free(text);
    metrics_free(reg);
}

static void test_invalid_registrations(void **state)
{
    (void)state;
    metrics_registry_t *reg = metrics_new();
    const char *one[] = {"ok"};
    /* metric names */
    assert_null(metrics_gauge(reg, "", "h", 0, NULL));
    assert_null(metrics_gauge(reg, NULL, "h", 0, NULL));
    assert_null(metrics_gauge(reg, "1abc", "h", 0, NULL));
    assert_null(metrics_gauge(reg, "a-b", "h", 0, NULL));
    assert_null(metrics_gauge(reg, "a b", "h", 0, NULL));
    assert_null(metrics_gauge(reg, "caf\xc3\xa9", "h", 0, NULL));
    assert_null(metrics_counter(reg, "requests", "h", 0, NULL)); /* counters end in _total */
    assert_null(metrics_gauge(NULL, "g", "h", 0, NULL));
    /* help */
    assert_null(metrics_gauge(reg, "g", NULL, 0, NULL));
    assert_null(metrics_gauge(reg, "g", "bad \xff utf8", 0, NULL));
    /* label names */
    assert_null(metrics_gauge(reg, "g", "h", 1, (const char *[]){"__reserved"}));
    assert_null(metrics_gauge(reg, "g", "h", 1, (const char *[]){"a:b"}));
    assert_null(metrics_gauge(reg, "g", "h", 1, (const char *[]){"9a"}));
    assert_null(metrics_gauge(reg, "g", "h", 1, (const char *[]){""}));
    assert_null(metrics_gauge(reg, "g", "h", 1, (const char *[]){NULL}));
    assert_null(metrics_gauge(reg, "g", "h", 1, NULL));
    assert_null(metrics_gauge(reg, "g", "h", 2, (const char *[]){"a", "a"}));
    assert_null(metrics_gauge(reg, "g", "h", METRICS_MAX_LABELS + 1,
                              (const char *[]){"a", "b", "c", "d", "e"}));
    assert_null(metrics_histogram(reg, "g", "h", 1, (const char *[]){"le"}, (double[]){1}, 1));
    /* buckets */
    assert_null(metrics_histogram(reg, "g", "h", 1, one, (double[]){1, 1}, 2));
    assert_null(metrics_histogram(reg, "g", "h", 1, one, (double[]){2, 1}, 2));
    assert_null(metrics_histogram(reg, "g", "h", 1, one, (double[]){1, NAN}, 2));
    assert_null(metrics_histogram(reg, "g", "h", 1, one, (double[]){1, INFINITY}, 2));
    assert_null(metrics_histogram(reg, "g", "h", 1, one, NULL, 2));

    /* Everything above failed, so the same name is still free; the valid
     * forms are accepted. */
    assert_non_null(metrics_gauge(reg, "g", "", 0, NULL));
    assert_non_null(metrics_gauge(reg, "ns:sub_name:ratio", "h", 1, (const char *[]){"_x9"}));
    assert_non_null(
        metrics_gauge(reg, "four", "h", METRICS_MAX_LABELS, (const char *[]){"a", "b", "c", "d"}));
    assert_non_null(metrics_counter(reg, "le_total", "h", 1, (const char *[]){"le"}));
    assert_non_null(metrics_histogram(reg, "no_buckets", "h", 0, NULL, NULL, 0));
    metrics_free(reg);
}

static void test_name_clashes(void **state)
{
    (void)state;
    metrics_registry_t *reg = metrics_new();
    assert_non_null(metrics_gauge(reg, "a", "h", 0, NULL));
    assert_null(metrics_gauge(reg, "a", "h", 0, NULL));
    assert_null(metrics_histogram(reg, "a", "h", 0, NULL, NULL, 0));
    assert_null(metrics_counter(reg, "metrics_series_dropped_total", "h", 0, NULL));
    assert_non_null(metrics_histogram(reg, "lat", "h", 0, NULL, NULL, 0));
    assert_null(metrics_gauge(reg, "lat_count", "h", 0, NULL));
    assert_null(metrics_gauge(reg, "lat_bucket", "h", 0, NULL));
    assert_null(metrics_gauge(reg, "lat_sum", "h", 0, NULL));
    assert_non_null(metrics_gauge(reg, "lat_max", "h", 0, NULL));
    assert_non_null(metrics_gauge(reg, "size_count", "h", 0, NULL));
    assert_null(metrics_histogram(reg, "size", "h", 0, NULL, NULL, 0));
    metrics_free(reg);
}

static void test_misuse_is_ignored(void **state)
{
    (void)state;
    metrics_registry_t *reg = metrics_new();
    metric_t *c = metrics_counter(reg, "c_total", "h", 0, NULL);
    metric_t *g = metrics_gauge(reg, "g", "h", 1, (const char *[]){"k"});
    metric_t *h = metrics_histogram(reg, "hist", "h", 0, NULL, NULL, 0);
    metric_inc(c, NULL, 2);
    metric_inc(c, NULL, -1);  /* counters never go down */
    metric_inc(c, NULL, NAN); /* nor become NaN */
    metric_set(c, NULL, 100); /* set is for gauges */
    metric_observe(c, NULL, 1);
    metric_inc(h, NULL, 1);
    metric_set(h, NULL, 1);
    metric_observe(g, (const char *[]){"x"}, 1);
    metric_set(g, NULL, 1);                   /* labelled family, no values */
    metric_set(g, (const char *[]){NULL}, 1); /* NULL value */
    metric_inc(NULL, NULL, 1);
    metric_set(NULL, NULL, 1);
    metric_observe(NULL, NULL, 1);
    metric_inc(g, (const char *[]){"y"}, -2.5); /* gauges may go down */
    char *text = render(reg);
    assert_string_equal(strstr(text, "# HELP c_total"), "# HELP c_total h\n"
                                                        "# TYPE c_total counter\n"
                                                        "c_total 2\n"
                                                        "# HELP g h\n"
                                                        "# TYPE g gauge\n"
                                                        "g{k=\"y\"} -2.5\n"
                                                        "# HELP hist h\n"
                                                        "# TYPE hist histogram\n"
                                                        "hist_bucket{le=\"+Inf\"} 0\n"
                                                        "hist_sum 0\n"
                                                        "hist_count 0\n");
    assert_int_equal(sample_value(text, "metrics_series_dropped_total"), 0);
    free(text);
    metrics_free(reg);
}

static void test_label_values_are_copied_and_distinct(void **state)
{
    (void)state;
    metrics_registry_t *reg = metrics_new();
    metric_t *c = metrics_counter(reg, "pairs_total", "h", 2, (const char *[]){"a", "b"});
    char a[8], b[8];
    strcpy(a, "ab");
    strcpy(b, "");
    metric_inc(c, (const char *[]){a, b}, 1);
    strcpy(a, "a");
    strcpy(b, "b");
    metric_inc(c, (const char *[]){a, b}, 10);
    strcpy(a, "zz"); /* the registry must not keep the caller's pointers */
    char *text = render(reg);
    assert_int_equal(sample_value(text, "pairs_total{a=\"ab\",b=\"\"}"), 1);
    assert_int_equal(sample_value(text, "pairs_total{a=\"a\",b=\"b\"}"), 10);
    assert_int_equal(count_lines_starting(text, "pairs_total{"), 2);
    free(text);
    metrics_free(reg);
}

static void test_series_cap_and_drop_counter(void **state)
{
    (void)state;
    metrics_registry_t *reg = metrics_new();
    metric_t *g = metrics_gauge(reg, "per_id", "h", 1, (const char *[]){"id"});
    metric_t *h =
        metrics_histogram(reg, "per_id_seconds", "h", 1, (const char *[]){"id"}, (double[]){1}, 1);
    char id[32];
    for (int i = 0; i < METRICS_MAX_SERIES + 5; i++) {
        snprintf(id, sizeof id, "%d", i);
        metric_set(g, (const char *[]){id}, i);
    }
    metric_observe(h, (const char *[]){"only"}, 0.5);
    /* Existing series keep working once the family is full. */
    metric_set(g, (const char *[]){"7"}, -7);
    metric_set(g, (const char *[]){"new"}, 1);
    char *text = render(reg);
    assert_int_equal(count_lines_starting(text, "per_id{"), METRICS_MAX_SERIES);
    assert_int_equal(sample_value(text, "per_id{id=\"7\"}"), -7);
    snprintf(id, sizeof id, "per_id{id=\"%d\"}", METRICS_MAX_SERIES - 1);
    assert_int_equal(sample_value(text, id), METRICS_MAX_SERIES - 1);
    snprintf(id, sizeof id, "per_id{id=\"%d\"} ", METRICS_MAX_SERIES);
    assert_null(strstr(text, id));
    assert_null(strstr(text, "per_id{id=\"new\"}"));
    assert_int_equal(sample_value(text, "metrics_series_dropped_total"), 6);
    assert_int_equal(sample_value(text, "per_id_seconds_count{id=\"only\"}"), 1);
    free(text);
    metrics_free(reg);
}

static int collect_calls;

static void collect_rows(void *user_data)
{
    collect_calls++;
    metric_set(user_data, NULL, collect_calls * 10);
}

static void collect_second(void *user_data)
{
    /* Runs after collect_rows, which registered first. */
    metric_set(user_data, NULL, collect_calls);
}

static void test_collect_callbacks(void **state)
{
    (void)state;
    collect_calls = 0;
    metrics_registry_t *reg = metrics_new();
    metric_t *rows = metrics_gauge(reg, "rows", "h", 0, NULL);
    metric_t *seen = metrics_gauge(reg, "seen", "h", 0, NULL);
    assert_int_equal(metrics_on_collect(reg, collect_rows, rows), 0);
    assert_int_equal(metrics_on_collect(reg, collect_second, seen), 0);
    assert_int_equal(metrics_on_collect(reg, NULL, NULL), -1);
    assert_int_equal(collect_calls, 0);
    char *text = render(reg);
    assert_int_equal(collect_calls, 1);
    assert_int_equal(sample_value(text, "rows"), 10);
    assert_int_equal(sample_value(text, "seen"), 1);
    free(text);
    text = render(reg);
    assert_int_equal(sample_value(text, "rows"), 20);
    assert_int_equal(sample_value(text, "seen"), 2);
    free(text);
    metrics_free(reg);
}

static void test_build_info(void **state)
{
    (void)state;
    metrics_registry_t *reg = metrics_new();
    assert_int_equal(metrics_add_build_info(reg, "articles-rest", "0.1.0-\"rc\""), 0);
    assert_int_not_equal(metrics_add_build_info(reg, "again", "1"), 0);
    assert_int_not_equal(metrics_add_build_info(reg, NULL, "1"), 0);
    char *text = render(reg);
    assert_non_null(strstr(text, "\n# TYPE articles_build_info gauge\n"
                                 "articles_build_info{program=\"articles-rest\","
                                 "version=\"0.1.0-\\\"rc\\\"\"} 1\n"));
    assert_int_equal(count_lines_starting(text, "articles_build_info{"), 1);
    free(text);
    metrics_free(reg);
}

static double process_value(metrics_registry_t *reg, const char *name)
{
    char *text = render(reg);
    double v = sample_value(text, name);
    free(text);
    return v;
}

static void test_process_metrics(void **state)
{
    (void)state;
    metrics_registry_t *reg = metrics_new();
    assert_int_equal(metrics_add_process(reg), 0);
    assert_int_not_equal(metrics_add_process(reg), 0); /* already registered */
    char *text = render(reg);
    static const char *const types[] = {
        "# TYPE process_cpu_seconds_total counter\n",
        "# TYPE process_resident_memory_bytes gauge\n",
        "# TYPE process_virtual_memory_bytes gauge\n",
        "# TYPE process_open_fds gauge\n",
        "# TYPE process_max_fds gauge\n",
        "# TYPE process_start_time_seconds gauge\n",
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        assert_non_null(strstr(text, types[i]));
    assert_non_null(strstr(text, "# HELP process_cpu_seconds_total Total user and system CPU "
                                 "time spent in seconds.\n"));

    double rss = sample_value(text, "process_resident_memory_bytes");
    double vsize = sample_value(text, "process_virtual_memory_bytes");
    assert_true(rss >= 1 << 20); /* any process linked with libc has more */
    assert_true(vsize >= rss);
    struct rlimit rl;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
    assert_true(sample_value(text, "process_max_fds") == (double)rl.rlim_cur);
    double start = sample_value(text, "process_start_time_seconds");
    double now = (double)time(NULL);
    assert_true(start <= now + 2 && start > now - 3600);
    free(text);

    double fds = process_value(reg, "process_open_fds");
    assert_true(fds >= 1);
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_true(process_value(reg, "process_open_fds") == fds + 1);
    close(fd);

    double cpu = process_value(reg, "process_cpu_seconds_total");
    assert_true(cpu >= 0);
    struct timespec t0, t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
    volatile double sink = 0;
    do {
        for (int i = 0; i < 100000; i++)
            sink = sink + i;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    } while ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 < 0.2);
    assert_true(process_value(reg, "process_cpu_seconds_total") >= cpu + 0.1);
    metrics_free(reg);
}

#define THREADS 8
#define ROUNDS 100000

typedef struct worker {
    metric_t *counter, *hist, *own;
    int id;
} worker_t;

static void *worker_run(void *arg)
{
    worker_t *w = arg;
    char mine[16];
    snprintf(mine, sizeof mine, "t%d", w->id);
    for (int i = 0; i < ROUNDS; i++) {
        metric_inc(w->counter, (const char *[]){"GET"}, 1);
        metric_observe(w->hist, NULL, (i % 4) * 0.5); /* 0, 0.5, 1, 1.5 */
        metric_inc(w->own, (const char *[]){mine}, 1);
    }
    return NULL;
}

static atomic_int stop_rendering;

/* cmocka's asserts longjmp and so must not run off the main thread; the
 * result goes back through the return value instead. */
static void *render_run(void *arg)
{
    intptr_t failures = 0;
    while (!stop_rendering) {
        buf_t b = {0};
        if (metrics_render(arg, &b) < 0)
            failures++;
        buf_free(&b);
    }
    return (void *)failures;
}

static void test_concurrent_updates(void **state)
{
    (void)state;
    metrics_registry_t *reg = metrics_new();
    worker_t w[THREADS];
    metric_t *counter = metrics_counter(reg, "hits_total", "h", 1, (const char *[]){"method"});
    metric_t *hist = metrics_histogram(reg, "work_seconds", "h", 0, NULL, (double[]){0.5, 1}, 2);
    metric_t *own = metrics_counter(reg, "per_thread_total", "h", 1, (const char *[]){"t"});
    pthread_t tid[THREADS], renderer;
    stop_rendering = 0;
    assert_int_equal(pthread_create(&renderer, NULL, render_run, reg), 0);
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker_t){counter, hist, own, i};
        assert_int_equal(pthread_create(&tid[i], NULL, worker_run, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(tid[i], NULL);
    stop_rendering = 1;
    void *render_failures;
    pthread_join(renderer, &render_failures);
    assert_null(render_failures);

    char *text = render(reg);
    const double total = (double)THREADS * ROUNDS;
    assert_true(sample_value(text, "hits_total{method=\"GET\"}") == total);
    assert_true(sample_value(text, "work_seconds_count") == total);
    assert_true(sample_value(text, "work_seconds_bucket{le=\"0.5\"}") == total / 2);
    assert_true(sample_value(text, "work_seconds_bucket{le=\"1\"}") == total * 3 / 4);
    assert_true(sample_value(text, "work_seconds_bucket{le=\"+Inf\"}") == total);
    assert_true(sample_value(text, "work_seconds_sum") == total / 4 * 3);
    for (int i = 0; i < THREADS; i++) {
        char series[48];
        snprintf(series, sizeof series, "per_thread_total{t=\"t%d\"}", i);
        assert_true(sample_value(text, series) == ROUNDS);
    }
    free(text);
    metrics_free(reg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_render_small_registry),
        cmocka_unit_test(test_unlabelled_families_start_at_zero),
        cmocka_unit_test(test_render_appends),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_histogram_buckets_are_cumulative),
        cmocka_unit_test(test_latency_buckets),
        cmocka_unit_test(test_number_format),
        cmocka_unit_test(test_numbers_round_trip),
        cmocka_unit_test(test_c_locale_numbers),
        cmocka_unit_test(test_invalid_registrations),
        cmocka_unit_test(test_name_clashes),
        cmocka_unit_test(test_misuse_is_ignored),
        cmocka_unit_test(test_label_values_are_copied_and_distinct),
        cmocka_unit_test(test_series_cap_and_drop_counter),
        cmocka_unit_test(test_collect_callbacks),
        cmocka_unit_test(test_build_info),
        cmocka_unit_test(test_process_metrics),
        cmocka_unit_test(test_concurrent_updates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
