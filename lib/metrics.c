/* metrics.c - Prometheus metrics registry and text exposition 0.0.4; see metrics.h. */
#include "metrics.h"

#include <dirent.h>
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "utf8.h"

/* Open-addressing index over a family's series. Kept at most half full so
 * probe runs stay short and always end at an empty slot. */
#define INDEX_SIZE 2048
_Static_assert(INDEX_SIZE >= 2 * METRICS_MAX_SERIES, "index must stay half empty");
_Static_assert((INDEX_SIZE & (INDEX_SIZE - 1)) == 0, "index size must be a power of two");
_Static_assert(METRICS_MAX_SERIES < UINT16_MAX, "index slots hold series numbers in 16 bits");

#define NUM_LEN 32 /* room for any number fmt_double() or fmt_u64() writes */

const double metrics_latency_buckets[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                          0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                          1,      2.5,     5,      10};
const size_t metrics_latency_buckets_len =
    sizeof metrics_latency_buckets / sizeof metrics_latency_buckets[0];

typedef enum { KIND_COUNTER, KIND_GAUGE, KIND_HISTOGRAM } kind_t;
typedef enum { OP_ADD, OP_SET, OP_OBSERVE } op_t;

static const char *const kind_names[] = {"counter", "gauge", "histogram"};
static const char *const hist_suffixes[] = {"_bucket", "_sum", "_count"};

/* One label combination. Allocated in one block: the bucket counts, then the
 * label value strings that values[] points to. */
typedef struct series {
    uint64_t hash;
    const char *values[METRICS_MAX_LABELS];
    double value;       /* counter or gauge value; histogram sum */
    uint64_t count;     /* histogram observations */
    uint64_t buckets[]; /* histogram: observations per finite bucket, not cumulative */
} series_t;

struct metric {
    metrics_registry_t *reg;
    struct metric *next;
    kind_t kind;
    char *name;
    char *help;
    size_t nlabels;
    char *labels[METRICS_MAX_LABELS];
    double *bounds;
    size_t nbounds;
    pthread_mutex_t lock; /* guards everything below */
    series_t **series;    /* in creation order, which is the rendering order */
    size_t nseries;
    size_t cap;
    uint16_t index[INDEX_SIZE]; /* series number + 1; 0 marks an empty slot */
};

typedef struct collector {
    metrics_collect_fn fn;
    void *user_data;
} collector_t;

typedef struct process_metrics {
    metric_t *cpu, *rss, *vsize, *open_fds, *max_fds, *start;
    double ticks;     /* clock ticks per second */
    double page_size; /* bytes */
    double boot_time; /* seconds since the epoch */
} process_metrics_t;

struct metrics_registry {
    pthread_mutex_t lock; /* guards the family list and the collectors */
    metric_t *first, *last;
    collector_t *collectors;
    size_t ncollectors;
    metric_t *dropped;
    process_metrics_t proc;
    locale_t c_locale;
};

/* A copy of a family's numbers, taken under its lock, formatted after. */
typedef struct row {
    const series_t *s;
    double value;
    uint64_t count;
} row_t;

typedef struct snapshot {
    row_t *rows;
    uint64_t *buckets; /* nbounds per row */
    size_t n;
} snapshot_t;

/* ---- validation ---------------------------------------------------------- */

/* Character classes by hand: isalpha() and friends depend on the locale. */
static bool valid_name(const char *s, bool colons)
{
    if (!s || !*s)
        return false;
    for (size_t i = 0; s[i]; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                  (colons && c == ':') || (i > 0 && c >= '0' && c <= '9');
        if (!ok)
            return false;
    }
    return true;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static bool valid_labels(kind_t kind, size_t n, const char *const *names)
{
    if (n > METRICS_MAX_LABELS || (n && !names))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!valid_name(names[i], false) || strncmp(names[i], "__", 2) == 0)
            return false;
        /* le is the bucket bound of every _bucket sample. */
        if (kind == KIND_HISTOGRAM && strcmp(names[i], "le") == 0)
            return false;
        for (size_t j = 0; j < i; j++)
            if (strcmp(names[i], names[j]) == 0)
                return false;
    }
    return true;
}

static bool valid_bounds(const double *b, size_t n)
{
    if (n && !b)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(b[i]) || (i > 0 && !(b[i] > b[i - 1])))
            return false;
    return true;
}

static bool valid_family(kind_t kind, const char *name, const char *help, size_t nlabels,
                         const char *const *label_names)
{
    if (!valid_name(name, true) || !help || !utf8_valid(help, strlen(help)))
        return false;
    if (kind == KIND_COUNTER && !ends_with(name, "_total"))
        return false;
    return valid_labels(kind, nlabels, label_names);
}

/* True when sample is base followed by a suffix a histogram adds. */
static bool is_hist_sample_of(const char *sample, const char *base)
{
    size_t len = strlen(base);
    if (strncmp(sample, base, len) != 0)
        return false;
    for (size_t i = 0; i < sizeof hist_suffixes / sizeof hist_suffixes[0]; i++)
        if (strcmp(sample + len, hist_suffixes[i]) == 0)
            return true;
    return false;
}

/* Two families must never write samples with the same name, or the
 * exposition is ambiguous and Prometheus rejects it. */
static bool names_clash(const metric_t *f, const char *name, kind_t kind)
{
    return strcmp(f->name, name) == 0 ||
           (f->kind == KIND_HISTOGRAM && is_hist_sample_of(name, f->name)) ||
           (kind == KIND_HISTOGRAM && is_hist_sample_of(f->name, name));
}

/* ---- series -------------------------------------------------------------- */

static uint64_t hash_values(const metric_t *m, const char *const *values)
{
    uint64_t h = 14695981039346656037u; /* FNV-1a */
    for (size_t i = 0; i < m->nlabels; i++) {
        const unsigned char *p = (const unsigned char *)values[i];
        /* Hashing each NUL keeps ("ab", "") apart from ("a", "b"). */
        do {
            h ^= *p;
            h *= 1099511628211u;
        } while (*p++);
    }
    return h;
}

static bool values_equal(const metric_t *m, const series_t *s, const char *const *values)
{
    for (size_t i = 0; i < m->nlabels; i++)
        if (strcmp(s->values[i], values[i]) != 0)
            return false;
    return true;
}

/* Returns the series or NULL with *slot set to the empty slot it would take. */
static series_t *series_find(const metric_t *m, const char *const *values, uint64_t hash,
                             size_t *slot)
{
    for (size_t i = hash & (INDEX_SIZE - 1);; i = (i + 1) & (INDEX_SIZE - 1)) {
        uint16_t n = m->index[i];
        if (n == 0) {
            *slot = i;
            return NULL;
        }
        series_t *s = m->series[n - 1];
        if (s->hash == hash && values_equal(m, s, values))
            return s;
    }
}

static series_t *series_new(const metric_t *m, const char *const *values, uint64_t hash)
{
    size_t head = sizeof(series_t) + m->nbounds * sizeof(uint64_t);
    size_t size = head;
    for (size_t i = 0; i < m->nlabels; i++)
        size += strlen(values[i]) + 1;
    series_t *s = calloc(1, size);
    if (!s)
        return NULL;
    s->hash = hash;
    char *p = (char *)s + head;
    for (size_t i = 0; i < m->nlabels; i++) {
        size_t n = strlen(values[i]) + 1;
        memcpy(p, values[i], n);
        s->values[i] = p;
        p += n;
    }
    return s;
}

static int series_grow(metric_t *m)
{
    size_t cap = m->cap ? m->cap * 2 : 8;
    if (cap > METRICS_MAX_SERIES)
        cap = METRICS_MAX_SERIES;
    series_t **p = realloc(m->series, cap * sizeof *p);
    if (!p)
        return -1;
    m->series = p;
    m->cap = cap;
    return 0;
}

/* Finds or creates the series; NULL when the family is full or memory ran
 * out. Called with m->lock held (or before m is published). */
static series_t *series_get(metric_t *m, const char *const *values, uint64_t hash)
{
    size_t slot;
    series_t *s = series_find(m, values, hash, &slot);
    if (s || m->nseries >= METRICS_MAX_SERIES)
        return s;
    if (m->nseries == m->cap && series_grow(m) < 0)
        return NULL;
    s = series_new(m, values, hash);
    if (!s)
        return NULL;
    m->series[m->nseries++] = s;
    m->index[slot] = (uint16_t)m->nseries;
    return s;
}

/* First bucket whose upper bound holds v (bounds are inclusive), or nbounds
 * when only +Inf does. */
static size_t bucket_of(const metric_t *m, double v)
{
    size_t lo = 0, hi = m->nbounds;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v <= m->bounds[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

static void apply(metric_t *m, series_t *s, op_t op, double v, size_t bucket)
{
    switch (op) {
    case OP_ADD:
        s->value += v;
        break;
    case OP_SET:
        s->value = v;
        break;
    case OP_OBSERVE:
        if (bucket < m->nbounds)
            s->buckets[bucket]++;
        s->count++;
        s->value += v;
        break;
    }
}

/* The hot path: hashing and the bucket search happen before taking the lock;
 * an existing series costs one probe and one strcmp per label. */
static void update(metric_t *m, const char *const *values, op_t op, double v)
{
    for (size_t i = 0; i < m->nlabels; i++)
        if (!values || !values[i])
            return;
    uint64_t hash = hash_values(m, values);
    size_t bucket = op == OP_OBSERVE ? bucket_of(m, v) : 0;
    pthread_mutex_lock(&m->lock);
    series_t *s = series_get(m, values, hash);
    if (s)
        apply(m, s, op, v, bucket);
    pthread_mutex_unlock(&m->lock);
    /* Counted after unlocking so no thread ever holds two family locks. */
    if (!s && m != m->reg->dropped)
        update(m->reg->dropped, NULL, OP_ADD, 1);
}

void metric_inc(metric_t *m, const char *const *label_values, double v)
{
    if (!m || m->kind == KIND_HISTOGRAM)
        return;
    /* A counter that goes down looks like a restart to rate(). */
    if (m->kind == KIND_COUNTER && !(v >= 0))
        return;
    update(m, label_values, OP_ADD, v);
}

void metric_set(metric_t *m, const char *const *label_values, double v)
{
    if (m && m->kind == KIND_GAUGE)
        update(m, label_values, OP_SET, v);
}

void metric_observe(metric_t *m, const char *const *label_values, double v)
{
    /* A NaN would turn _sum into NaN for the rest of the process's life. */
    if (m && m->kind == KIND_HISTOGRAM && !isnan(v))
        update(m, label_values, OP_OBSERVE, v);
}

/* ---- registration -------------------------------------------------------- */

static void family_free(metric_t *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->nseries; i++)
        free(m->series[i]);
    free(m->series);
    for (size_t i = 0; i < m->nlabels; i++)
        free(m->labels[i]);
    free(m->bounds);
    free(m->help);
    free(m->name);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

static int registry_link(metrics_registry_t *reg, metric_t *m)
{
    int rc = 0;
    pthread_mutex_lock(&reg->lock);
    for (const metric_t *f = reg->first; f && rc == 0; f = f->next)
        if (names_clash(f, m->name, m->kind))
            rc = -1;
    if (rc == 0) {
        if (reg->last)
            reg->last->next = m;
        else
            reg->first = m;
        reg->last = m;
    }
    pthread_mutex_unlock(&reg->lock);
    return rc;
}

static metric_t *family_new(metrics_registry_t *reg, kind_t kind, const char *name,
                            const char *help, size_t nlabels, const char *const *label_names,
                            const double *bounds, size_t nbounds)
{
    if (!reg || !valid_family(kind, name, help, nlabels, label_names) ||
        !valid_bounds(bounds, nbounds))
        return NULL;
    metric_t *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    pthread_mutex_init(&m->lock, NULL);
    m->reg = reg;
    m->kind = kind;
    m->name = strdup(name);
    m->help = strdup(help);
    if (!m->name || !m->help)
        goto fail;
    for (; m->nlabels < nlabels; m->nlabels++)
        if (!(m->labels[m->nlabels] = strdup(label_names[m->nlabels])))
            goto fail;
    if (nbounds && !(m->bounds = malloc(nbounds * sizeof *bounds)))
        goto fail;
    if (nbounds)
        memcpy(m->bounds, bounds, nbounds * sizeof *bounds);
    m->nbounds = nbounds;
    /* A family without labels has exactly one series; creating it now exposes
     * 0 before the first update, which rate() and increase() rely on. */
    if (nlabels == 0 && !series_get(m, NULL, hash_values(m, NULL)))
        goto fail;
    if (registry_link(reg, m) < 0)
        goto fail;
    return m;
fail:
    family_free(m);
    return NULL;
}

metric_t *metrics_counter(metrics_registry_t *reg, const char *name, const char *help,
                          size_t nlabels, const char *const *label_names)
{
    return family_new(reg, KIND_COUNTER, name, help, nlabels, label_names, NULL, 0);
}

metric_t *metrics_gauge(metrics_registry_t *reg, const char *name, const char *help, size_t nlabels,
                        const char *const *label_names)
{
    return family_new(reg, KIND_GAUGE, name, help, nlabels, label_names, NULL, 0);
}

metric_t *metrics_histogram(metrics_registry_t *reg, const char *name, const char *help,
                            size_t nlabels, const char *const *label_names, const double *buckets,
                            size_t nbuckets)
{
    return family_new(reg, KIND_HISTOGRAM, name, help, nlabels, label_names, buckets, nbuckets);
}

int metrics_on_collect(metrics_registry_t *reg, metrics_collect_fn fn, void *user_data)
{
    if (!reg || !fn)
        return -1;
    int rc = -1;
    pthread_mutex_lock(&reg->lock);
    collector_t *p = realloc(reg->collectors, (reg->ncollectors + 1) * sizeof *p);
    if (p) {
        p[reg->ncollectors++] = (collector_t){fn, user_data};
        reg->collectors = p;
        rc = 0;
    }
    pthread_mutex_unlock(&reg->lock);
    return rc;
}

metrics_registry_t *metrics_new(void)
{
    metrics_registry_t *reg = calloc(1, sizeof *reg);
    if (!reg)
        return NULL;
    pthread_mutex_init(&reg->lock, NULL);
    reg->c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    if (!reg->c_locale)
        goto fail;
    reg->dropped = metrics_counter(
        reg, "metrics_series_dropped_total",
        "Metric updates dropped because their family already had the maximum number of "
        "label combinations.",
        0, NULL);
    if (!reg->dropped)
        goto fail;
    return reg;
fail:
    metrics_free(reg);
    return NULL;
}

void metrics_free(metrics_registry_t *reg)
{
    if (!reg)
        return;
    for (metric_t *m = reg->first, *next; m; m = next) {
        next = m->next;
        family_free(m);
    }
    free(reg->collectors);
    if (reg->c_locale)
        freelocale(reg->c_locale);
    pthread_mutex_destroy(&reg->lock);
    free(reg);
}

/* ---- rendering ----------------------------------------------------------- */

/* Prometheus parses numbers with Go's ParseFloat: integers are written
 * plainly, everything else in the shortest form that reads back exactly. */
static void fmt_double(char out[NUM_LEN], double v)
{
    if (isnan(v)) {
        strcpy(out, "NaN");
    } else if (isinf(v)) {
        strcpy(out, v > 0 ? "+Inf" : "-Inf");
    } else if (v == trunc(v) && fabs(v) <= 9007199254740992.0) {
        snprintf(out, NUM_LEN, "%.0f", v);
    } else {
        /* A value with at most 15 significant digits is found by %.15g;
         * 16 and then 17 digits cover the rest (17 always round-trips). */
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(out, NUM_LEN, "%.*g", prec, v);
            if (strtod(out, NULL) == v)
                break;
        }
    }
}

static void fmt_u64(char out[NUM_LEN], uint64_t v)
{
    snprintf(out, NUM_LEN, "%" PRIu64, v);
}

/* Label values may come from requests; invalid UTF-8 would make Prometheus
 * reject the whole scrape, so such bytes become U+FFFD. */
static void put_escaped(buf_t *out, const char *s, bool label_value)
{
    size_t len = strlen(s);
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) {
            size_t n = utf8_sequence_length(s + i, len - i);
            if (n)
                buf_append(out, s + i, n);
            else
                buf_puts(out, "\xEF\xBF\xBD");
            i += n ? n : 1;
            continue;
        }
        if (c == '\\')
            buf_puts(out, "\\\\");
        else if (c == '\n')
            buf_puts(out, "\\n");
        else if (c == '"' && label_value)
            buf_puts(out, "\\\"");
        else
            buf_putc(out, (char)c);
        i++;
    }
}

static void put_label(buf_t *out, const char *name, const char *value)
{
    buf_puts(out, name);
    buf_puts(out, "=\"");
    put_escaped(out, value, true);
    buf_putc(out, '"');
}

/* One sample line: name suffix {labels[,le="..."]} value. */
static void put_sample(buf_t *out, const metric_t *m, const char *suffix, const series_t *s,
                       const char *le, const char *value)
{
    buf_puts(out, m->name);
    buf_puts(out, suffix);
    if (m->nlabels || le) {
        buf_putc(out, '{');
        for (size_t i = 0; i < m->nlabels; i++) {
            if (i)
                buf_putc(out, ',');
            put_label(out, m->labels[i], s->values[i]);
        }
        if (le) {
            if (m->nlabels)
                buf_putc(out, ',');
            put_label(out, "le", le);
        }
        buf_putc(out, '}');
    }
    buf_putc(out, ' ');
    buf_puts(out, value);
    buf_putc(out, '\n');
}

static void put_histogram(buf_t *out, const metric_t *m, const row_t *r, const uint64_t *counts)
{
    char le[NUM_LEN], num[NUM_LEN];
    uint64_t cumulative = 0;
    for (size_t b = 0; b < m->nbounds; b++) {
        cumulative += counts[b];
        fmt_double(le, m->bounds[b]);
        fmt_u64(num, cumulative);
        put_sample(out, m, "_bucket", r->s, le, num);
    }
    fmt_u64(num, r->count);
    put_sample(out, m, "_bucket", r->s, "+Inf", num);
    fmt_double(num, r->value);
    put_sample(out, m, "_sum", r->s, NULL, num);
    fmt_u64(num, r->count);
    put_sample(out, m, "_count", r->s, NULL, num);
}

static int snapshot_take(metric_t *m, snapshot_t *snap)
{
    *snap = (snapshot_t){0};
    pthread_mutex_lock(&m->lock);
    size_t n = m->nseries;
    pthread_mutex_unlock(&m->lock);
    if (n == 0)
        return 0;
    /* Allocated outside the lock so updaters never wait on malloc. Series are
     * never removed, so the first n are still there once we relock. */
    snap->rows = malloc(n * (sizeof(row_t) + m->nbounds * sizeof(uint64_t)));
    if (!snap->rows)
        return -1;
    snap->buckets = (uint64_t *)(snap->rows + n);
    snap->n = n;
    pthread_mutex_lock(&m->lock);
    for (size_t i = 0; i < n; i++) {
        const series_t *s = m->series[i];
        snap->rows[i] = (row_t){s, s->value, s->count};
        memcpy(snap->buckets + i * m->nbounds, s->buckets, m->nbounds * sizeof(uint64_t));
    }
    pthread_mutex_unlock(&m->lock);
    return 0;
}

static int render_family(metric_t *m, buf_t *out)
{
    snapshot_t snap;
    if (snapshot_take(m, &snap) < 0)
        return -1;
    buf_printf(out, "# HELP %s ", m->name);
    put_escaped(out, m->help, false);
    buf_printf(out, "\n# TYPE %s %s\n", m->name, kind_names[m->kind]);
    char num[NUM_LEN];
    for (size_t i = 0; i < snap.n; i++) {
        const row_t *r = &snap.rows[i];
        if (m->kind == KIND_HISTOGRAM) {
            put_histogram(out, m, r, snap.buckets + i * m->nbounds);
        } else {
            fmt_double(num, r->value);
            put_sample(out, m, "", r->s, NULL, num);
        }
    }
    free(snap.rows);
    return out->failed ? -1 : 0;
}

/* Collectors run without the registry lock so they may update families
 * (and even register new ones) freely. */
static int run_collectors(metrics_registry_t *reg)
{
    pthread_mutex_lock(&reg->lock);
    size_t n = reg->ncollectors;
    collector_t *copy = n ? malloc(n * sizeof *copy) : NULL;
    if (copy)
        memcpy(copy, reg->collectors, n * sizeof *copy);
    pthread_mutex_unlock(&reg->lock);
    if (n && !copy)
        return -1;
    for (size_t i = 0; i < n; i++)
        copy[i].fn(copy[i].user_data);
    free(copy);
    return 0;
}

int metrics_render(metrics_registry_t *reg, buf_t *out)
{
    if (!reg || !out || run_collectors(reg) < 0)
        return -1;
    /* printf and strtod follow LC_NUMERIC; a program that called setlocale()
     * must still produce "0.5", never "0,5". */
    locale_t old = uselocale(reg->c_locale);
    int rc = 0;
    pthread_mutex_lock(&reg->lock);
    for (metric_t *m = reg->first; m && rc == 0; m = m->next)
        rc = render_family(m, out);
    pthread_mutex_unlock(&reg->lock);
    uselocale(old);
    return rc < 0 || out->failed ? -1 : 0;
}

/* ---- process and build metrics ------------------------------------------- */

typedef struct self_stat {
    unsigned long utime, stime, vsize;
    unsigned long long starttime;
    long rss;
} self_stat_t;

static int read_self_stat(self_stat_t *st)
{
    char line[1024]; /* comm is at most 16 bytes, so the line is far shorter */
    FILE *f = fopen("/proc/self/stat", "re");
    if (!f)
        return -1;
    size_t n = fread(line, 1, sizeof line - 1, f);
    fclose(f);
    line[n] = '\0';
    /* comm may hold spaces and parentheses; the fields after it start after
     * the last ')'. Fields 3-13 and 16-21 are skipped as words. */
    const char *p = strrchr(line, ')');
    if (!p)
        return -1;
    int got = sscanf(p + 1,
                     " %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %lu %lu"
                     " %*s %*s %*s %*s %*s %*s %llu %lu %ld",
                     &st->utime, &st->stime, &st->starttime, &st->vsize, &st->rss);
    return got == 5 ? 0 : -1;
}

static long count_open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    long n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    /* Leave out the descriptor opendir() itself held while counting. */
    return n - 1;
}

static int read_boot_time(double *out)
{
    FILE *f = fopen("/proc/stat", "re");
    if (!f)
        return -1;
    char *line = NULL;
    size_t cap = 0;
    int rc = -1;
    unsigned long long btime;
    while (rc < 0 && getline(&line, &cap, f) > 0)
        if (sscanf(line, "btime %llu", &btime) == 1)
            rc = 0;
    free(line);
    fclose(f);
    if (rc == 0)
        *out = (double)btime;
    return rc;
}

static void process_collect(void *user_data)
{
    metrics_registry_t *reg = user_data;
    const process_metrics_t *p = &reg->proc;
    self_stat_t st;
    if (read_self_stat(&st) == 0) {
        update(p->cpu, NULL, OP_SET, (double)(st.utime + st.stime) / p->ticks);
        update(p->vsize, NULL, OP_SET, (double)st.vsize);
        update(p->rss, NULL, OP_SET, (double)st.rss * p->page_size);
        update(p->start, NULL, OP_SET, p->boot_time + (double)st.starttime / p->ticks);
    }
    long fds = count_open_fds();
    if (fds >= 0)
        update(p->open_fds, NULL, OP_SET, (double)fds);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        update(p->max_fds, NULL, OP_SET, (double)rl.rlim_cur);
}

/* HELP texts are those of the official Go and Python clients. */
static int register_process(metrics_registry_t *reg, process_metrics_t *p)
{
    p->cpu = metrics_counter(reg, "process_cpu_seconds_total",
                             "Total user and system CPU time spent in seconds.", 0, NULL);
    p->open_fds =
        metrics_gauge(reg, "process_open_fds", "Number of open file descriptors.", 0, NULL);
    p->max_fds =
        metrics_gauge(reg, "process_max_fds", "Maximum number of open file descriptors.", 0, NULL);
    p->vsize = metrics_gauge(reg, "process_virtual_memory_bytes", "Virtual memory size in bytes.",
                             0, NULL);
    p->rss = metrics_gauge(reg, "process_resident_memory_bytes", "Resident memory size in bytes.",
                           0, NULL);
    p->start = metrics_gauge(reg, "process_start_time_seconds",
                             "Start time of the process since unix epoch in seconds.", 0, NULL);
    return p->cpu && p->open_fds && p->max_fds && p->vsize && p->rss && p->start ? 0 : -1;
}

int metrics_add_process(metrics_registry_t *reg)
{
    if (!reg)
        return -1;
    process_metrics_t p = {0};
    long ticks = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
    /* Boot time only moves with clock corrections; read once, like the
     * Python client does. */
    if (ticks <= 0 || page <= 0 || read_boot_time(&p.boot_time) < 0)
        return -1;
    p.ticks = (double)ticks;
    p.page_size = (double)page;
    if (register_process(reg, &p) < 0)
        return -1;
    /* Published before the collector, whose registration takes reg->lock. */
    reg->proc = p;
    return metrics_on_collect(reg, process_collect, reg);
}

int metrics_add_build_info(metrics_registry_t *reg, const char *program, const char *version)
{
    static const char *const labels[] = {"program", "version"};
    if (!program || !version)
        return -1;
    metric_t *m = metrics_gauge(reg, "articles_build_info",
                                "A metric with a constant '1' value labeled by the program "
                                "and the version it was built from.",
                                2, labels);
    if (!m)
        return -1;
    const char *const values[] = {program, version};
    metric_set(m, values, 1);
    return 0;
}
