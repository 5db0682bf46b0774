/*
 * log.c - logfmt or JSON lines on stderr.  See log.h.
 *
 * With the asynchronous sink running (log_async_start, the daemon), a line
 * is formatted on the caller's thread and copied into a buffer; one thread
 * writes the buffer out.  It waits up to BATCH_MS, or until BATCH_BYTES are
 * in, so that a busy server makes one write(2) for hundreds of access lines
 * instead of one per request.  Nothing is dropped: a caller that finds the
 * buffer full writes it out itself (in order, under the output lock), warn
 * and error lines are written out at once, and log_open_file (SIGHUP) and
 * log_async_stop (shutdown) write out what is buffered first.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

#define LINE_MAX_LOGFMT 2048
#define LINE_MAX_JSON   4096

#define SINK_BYTES  (256 * 1024) /* each of the two buffers */
#define BATCH_BYTES (64 * 1024)  /* wake the writer early past this much */
#define BATCH_MS    50           /* the longest an info line waits to be written */

/* Process-wide settings, changed by the main thread while others log. */
static atomic_int min_level = LOG_INFO;
static atomic_int format = LOG_FORMAT_LOGFMT;
static atomic_bool journald = false;
static atomic_bool journald_checked = false;
static int saved_stderr = -1; /* the original stderr while logging to a file */

/*
 * The asynchronous sink.  `lock` guards the buffer being filled; `io_lock` is
 * held by whoever writes to stderr through the sink, and owns `spare`: the
 * holder swaps the buffers under `lock`, then writes without it, so lines
 * leave in the order they came and appenders never wait on the disk.
 */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t more;     /* the writer: lines arrived (or BATCH_BYTES), or stop */
	pthread_mutex_t io_lock; /* writing to stderr; also held across log_open_file's swap */
	char *fill;              /* SINK_BYTES, under lock */
	size_t len;
	char *spare; /* under io_lock */
	bool running;
	bool idle; /* the writer waits for a first line (no timeout) */
	bool stopping;
	pthread_t thread;
} sink = {
        .lock = PTHREAD_MUTEX_INITIALIZER,
        .more = PTHREAD_COND_INITIALIZER,
        .io_lock = PTHREAD_MUTEX_INITIALIZER,
};

static const char *const level_names[] = {"debug", "info", "warn", "error"};
/* syslog priorities: debug 7, info 6, warning 4, err 3. */
static const int level_prio[] = {7, 6, 4, 3};

void log_set_level(enum log_level level)
{
	atomic_store(&min_level, (int)level);
}

enum log_level log_get_level(void)
{
	return (enum log_level)atomic_load(&min_level);
}

void log_set_format(enum log_format f)
{
	atomic_store(&format, (int)f);
}

bool log_level_parse(const char *text, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(text, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return true;
		}
	}
	return false;
}

bool log_format_parse(const char *text, enum log_format *out)
{
	if (strcmp(text, "logfmt") == 0)
		*out = LOG_FORMAT_LOGFMT;
	else if (strcmp(text, "json") == 0)
		*out = LOG_FORMAT_JSON;
	else
		return false;
	return true;
}

/* journald passes "DEV:INODE" of the stream it gave us; only then are prefixes wanted. */
static void check_journald(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	bool on = false;

	if (js != NULL && sscanf(js, "%llu:%llu", &dev, &ino) == 2 &&
	    fstat(STDERR_FILENO, &st) == 0)
		on = (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
	atomic_store(&journald, on);
	atomic_store(&journald_checked, true);
}

/* Write all of buf to stderr; a failing log has nowhere to report to. */
static void write_all(const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t w = write(STDERR_FILENO, buf, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		buf += w;
		n -= (size_t)w;
	}
}

/* With io_lock held: write out what the sink holds. */
static void sink_drain_locked(void)
{
	pthread_mutex_lock(&sink.lock);
	char *out = sink.fill;
	size_t n = sink.len;
	sink.fill = sink.spare;
	sink.spare = out;
	sink.len = 0;
	pthread_mutex_unlock(&sink.lock);
	if (n > 0)
		write_all(out, n);
}

void log_flush(void)
{
	pthread_mutex_lock(&sink.io_lock);
	if (sink.fill != NULL)
		sink_drain_locked();
	pthread_mutex_unlock(&sink.io_lock);
}

static void *sink_main(void *arg)
{
	pthread_mutex_lock(&sink.lock);
	for (;;) {
		sink.idle = true;
		while (sink.len == 0 && !sink.stopping)
			pthread_cond_wait(&sink.more, &sink.lock);
		sink.idle = false;
		if (sink.len == 0)
			break; /* stopping, and nothing left */
		/* Let a batch gather: up to BATCH_MS, or BATCH_BYTES, or the stop. */
		struct timespec until;
		clock_realtime_after_ms(BATCH_MS, &until);
		while (sink.len < BATCH_BYTES && !sink.stopping &&
		       pthread_cond_timedwait(&sink.more, &sink.lock, &until) == 0)
			;
		pthread_mutex_unlock(&sink.lock);
		log_flush();
		pthread_mutex_lock(&sink.lock);
	}
	pthread_mutex_unlock(&sink.lock);
	return NULL;
}

bool log_async_start(void)
{
	bool ok = false;
	pthread_mutex_lock(&sink.io_lock);
	pthread_mutex_lock(&sink.lock);
	if (sink.running) {
		ok = true;
		goto out;
	}
	sink.fill = malloc(SINK_BYTES);
	sink.spare = malloc(SINK_BYTES);
	sink.len = 0;
	sink.stopping = false;
	if (sink.fill != NULL && sink.spare != NULL &&
	    pthread_create(&sink.thread, NULL, sink_main, NULL) == 0) {
		sink.running = ok = true;
		goto out;
	}
	free(sink.fill);
	free(sink.spare);
	sink.fill = sink.spare = NULL;
out:
	pthread_mutex_unlock(&sink.lock);
	pthread_mutex_unlock(&sink.io_lock);
	return ok;
}

void log_async_stop(void)
{
	pthread_mutex_lock(&sink.lock);
	if (!sink.running) {
		pthread_mutex_unlock(&sink.lock);
		return;
	}
	sink.stopping = true;
	pthread_cond_signal(&sink.more);
	pthread_mutex_unlock(&sink.lock);
	pthread_join(sink.thread, NULL);
	/* Lines that came during the join, then direct writes from now on. */
	pthread_mutex_lock(&sink.io_lock);
	sink_drain_locked();
	pthread_mutex_lock(&sink.lock);
	sink.running = false;
	free(sink.fill);
	free(sink.spare);
	sink.fill = sink.spare = NULL;
	pthread_mutex_unlock(&sink.lock);
	pthread_mutex_unlock(&sink.io_lock);
}

/* One finished line: into the sink when it runs, else straight to stderr. */
static void emit(enum log_level level, const char *line, size_t n)
{
	pthread_mutex_lock(&sink.lock);
	while (sink.running && n > SINK_BYTES - sink.len) {
		/* Full: write it out here rather than drop or wait for the writer. */
		pthread_mutex_unlock(&sink.lock);
		log_flush();
		pthread_mutex_lock(&sink.lock);
	}
	if (!sink.running) {
		pthread_mutex_unlock(&sink.lock);
		/* Behind io_lock: after anything the sink still writes out. */
		pthread_mutex_lock(&sink.io_lock);
		write_all(line, n);
		pthread_mutex_unlock(&sink.io_lock);
		return;
	}
	memcpy(sink.fill + sink.len, line, n);
	sink.len += n;
	if ((sink.idle && sink.len == n) || (sink.len >= BATCH_BYTES && sink.len - n < BATCH_BYTES))
		pthread_cond_signal(&sink.more);
	pthread_mutex_unlock(&sink.lock);
	/* What may come right before a crash is never left in memory. */
	if (level >= LOG_WARN)
		log_flush();
}

bool log_open_file(const char *path, char **err)
{
	*err = NULL;
	if (path == NULL || path[0] == '\0') {
		pthread_mutex_lock(&sink.io_lock);
		if (saved_stderr >= 0) {
			/* What was logged before goes where it was logged to. */
			if (sink.fill != NULL)
				sink_drain_locked();
			dup2(saved_stderr, STDERR_FILENO);
			close(saved_stderr);
			saved_stderr = -1;
		}
		pthread_mutex_unlock(&sink.io_lock);
		check_journald();
		return true;
	}
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0) {
		if (asprintf(err, "cannot open log file %s: %s", path, strerror(errno)) < 0)
			*err = NULL;
		return false;
	}
	pthread_mutex_lock(&sink.io_lock);
	if (saved_stderr < 0)
		saved_stderr = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	/*
	 * Lines logged before the reopen go to the old file (logrotate moved it);
	 * dup2 swaps the file under every thread at once: no line is split or lost.
	 */
	if (sink.fill != NULL)
		sink_drain_locked();
	dup2(fd, STDERR_FILENO);
	pthread_mutex_unlock(&sink.io_lock);
	close(fd);
	check_journald();
	return true;
}

/* True when s starts with a logfmt key followed by '='. */
static bool at_key(const char *s)
{
	size_t n = 0;
	while ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') || s[n] == '_' ||
	       s[n] == '.')
		n++;
	return n > 0 && s[n] == '=';
}

static bool is_number(const char *s, size_t len)
{
	size_t i = 0, digits = 0;
	if (i < len && s[i] == '-')
		i++;
	while (i < len && s[i] >= '0' && s[i] <= '9') {
		i++;
		digits++;
	}
	if (digits == 0 || (digits > 1 && s[i - digits] == '0'))
		return false;
	if (i < len && s[i] == '.') {
		i++;
		size_t frac = 0;
		while (i < len && s[i] >= '0' && s[i] <= '9') {
			i++;
			frac++;
		}
		if (frac == 0)
			return false;
	}
	return i == len;
}

struct out {
	char *buf;
	size_t cap;
	size_t len;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (n > o->cap - 1 - o->len)
		n = o->cap - 1 - o->len; /* a log line may be cut; a request never is */
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static void put_json_string(struct out *o, const char *s, size_t n)
{
	put(o, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		char esc[8];
		if (ch == '"' || ch == '\\') {
			esc[0] = '\\';
			esc[1] = (char)ch;
			put(o, esc, 2);
		} else if (ch < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", ch);
			put(o, esc, 6);
		} else {
			put(o, (const char *)&s[i], 1);
		}
	}
	put(o, "\"", 1);
}

/* Turn logfmt pairs into JSON members (",\"k\":v" each). */
static void pairs_to_json(struct out *o, const char *p)
{
	while (*p != '\0') {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		const char *eq = strchr(p, '=');
		const char *sp = strchr(p, ' ');
		if (eq == NULL || (sp != NULL && sp < eq)) {
			/* A bare word: keep it under "extra". */
			size_t n = sp ? (size_t)(sp - p) : strlen(p);
			put(o, ",\"extra\":", 9);
			put_json_string(o, p, n);
			p += n;
			continue;
		}
		put(o, ",", 1);
		put_json_string(o, p, (size_t)(eq - p));
		put(o, ":", 1);
		const char *v = eq + 1;
		if (*v == '"') {
			/* The closing quote is the one followed by the end or the next key. */
			const char *e = v + 1;
			while (*e != '\0' &&
			       !(*e == '"' && (e[1] == '\0' || (e[1] == ' ' && at_key(e + 2)))))
				e++;
			put_json_string(o, v + 1, (size_t)(e - v - 1));
			p = *e == '"' ? e + 1 : e;
		} else {
			size_t n = strcspn(v, " ");
			if (is_number(v, n))
				put(o, v, n);
			else
				put_json_string(o, v, n);
			p = v + n;
		}
	}
}

void log_msg(enum log_level level, const char *msg, const char *fmt, ...)
{
	char ts[CLOCK_RFC3339_LEN];
	char pairs[LINE_MAX_LOGFMT];
	char line[LINE_MAX_JSON];
	struct out o = {.buf = line, .cap = sizeof(line) - 1, .len = 0}; /* room for '\n' */

	if ((int)level < atomic_load(&min_level))
		return;
	if (!atomic_load(&journald_checked))
		check_journald();
	pairs[0] = '\0';
	if (fmt != NULL) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(pairs, sizeof(pairs), fmt, ap);
		va_end(ap);
	}
	/* A value must never break the line in two (log injection). */
	for (char *p = pairs; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	clock_format_rfc3339(clock_now_us(), ts);
	line[0] = '\0';
	if (atomic_load(&journald)) {
		char prio[8];
		int n = snprintf(prio, sizeof(prio), "<%d>", level_prio[level]);
		put(&o, prio, (size_t)n);
	}
	if (atomic_load(&format) == LOG_FORMAT_JSON) {
		put(&o, "{\"time\":\"", 9);
		put(&o, ts, strlen(ts));
		put(&o, "\",\"level\":\"", 11);
		put(&o, level_names[level], strlen(level_names[level]));
		put(&o, "\",\"msg\":", 8);
		put_json_string(&o, msg, strlen(msg));
		pairs_to_json(&o, pairs);
		put(&o, "}", 1);
	} else {
		put(&o, "time=", 5);
		put(&o, ts, strlen(ts));
		put(&o, " level=", 7);
		put(&o, level_names[level], strlen(level_names[level]));
		put(&o, " msg=\"", 6);
		put(&o, msg, strlen(msg));
		put(&o, "\"", 1);
		if (pairs[0] != '\0') {
			put(&o, " ", 1);
			put(&o, pairs, strlen(pairs));
		}
	}
	line[o.len++] = '\n';
	emit(level, line, o.len);
}
