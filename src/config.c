/*
 * config.c - the key table, the file parser and the sources in order of
 * precedence.  See config.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "expiry.h"

#define LINE_MAX_BYTES 4096
#define MAX_LINES      10000

struct config_key {
	const char *name;
	const char *flag; /* the command-line spelling, --flag */
	const char *default_text;
	/* Check text and store it in the config's typed field; on error write why. */
	bool (*set)(struct config *cfg, const struct config_key *k, const char *text, char *why,
	            size_t cap);
	size_t offset;
	unsigned long min, max;     /* numbers */
	const char *const *choices; /* enums: the names, in enum order */
	bool reloadable;            /* applied on SIGHUP; otherwise needs a restart */
	bool secret;                /* never printed */
	const char *help;
};

static const char *const sync_names[] = {"full", "normal", NULL};
static const char *const level_names[] = {"debug", "info", "warn", "error", NULL};
static const char *const format_names[] = {"logfmt", "json", NULL};

/* ---- validators ---- */

static bool set_string(struct config *cfg, const struct config_key *k, const char *text, char *why,
                       size_t cap)
{
	char **field = (char **)((char *)cfg + k->offset);
	if (strlen(text) > 4096) {
		snprintf(why, cap, "%s is too long", k->name);
		return false;
	}
	char *copy = strdup(text);
	if (copy == NULL) {
		snprintf(why, cap, "out of memory");
		return false;
	}
	free(*field);
	*field = copy;
	return true;
}

static bool set_path(struct config *cfg, const struct config_key *k, const char *text, char *why,
                     size_t cap)
{
	if (text[0] == '\0') {
		snprintf(why, cap, "%s must not be empty", k->name);
		return false;
	}
	return set_string(cfg, k, text, why, cap);
}

/* A path that may be empty ("none"). */
static bool set_optional_path(struct config *cfg, const struct config_key *k, const char *text,
                              char *why, size_t cap)
{
	return set_string(cfg, k, text, why, cap);
}

/* A decimal number; bytes allows a K, M or G (1024-based) suffix, else an "s" (seconds). */
static bool parse_number(const char *text, unsigned long long *out, bool bytes)
{
	unsigned long long mult = 1;
	char *end;

	if (text[0] < '0' || text[0] > '9')
		return false;
	errno = 0;
	unsigned long long v = strtoull(text, &end, 10);
	if (errno != 0)
		return false;
	if (bytes) {
		switch (*end) {
		case 'k':
		case 'K':
			mult = 1024ULL;
			end++;
			break;
		case 'm':
		case 'M':
			mult = 1024ULL * 1024;
			end++;
			break;
		case 'g':
		case 'G':
			mult = 1024ULL * 1024 * 1024;
			end++;
			break;
		default:
			break;
		}
	} else if (*end == 's') {
		end++;
	}
	if (*end != '\0' || v > ~0ULL / mult)
		return false;
	*out = v * mult;
	return true;
}

static bool set_uint(struct config *cfg, const struct config_key *k, const char *text, char *why,
                     size_t cap)
{
	unsigned long long v;
	if (!parse_number(text, &v, false) || v < k->min || v > k->max) {
		snprintf(why, cap, "%s takes a whole number from %lu to %lu, not '%s'", k->name,
		         k->min, k->max, text);
		return false;
	}
	*(unsigned *)((char *)cfg + k->offset) = (unsigned)v;
	return true;
}

static bool set_bytes(struct config *cfg, const struct config_key *k, const char *text, char *why,
                      size_t cap)
{
	unsigned long long v;
	if (!parse_number(text, &v, true) || v < k->min || v > k->max) {
		snprintf(why, cap,
		         "%s takes a byte count from %lu to %lu (K, M, G suffixes allowed), "
		         "not '%s'",
		         k->name, k->min, k->max, text);
		return false;
	}
	*(size_t *)((char *)cfg + k->offset) = (size_t)v;
	return true;
}

/* A duration ("365d", "52w", "12h"...) in microseconds, or "0" for none. */
static bool set_duration(struct config *cfg, const struct config_key *k, const char *text,
                         char *why, size_t cap)
{
	int64_t us = 0;
	if (strcmp(text, "0") != 0 && !expiry_duration(text, &us)) {
		snprintf(why, cap,
		         "%s takes 0 or a duration such as 365d, 52w or 12h (units s m h d w), "
		         "not '%s'",
		         k->name, text);
		return false;
	}
	*(int64_t *)((char *)cfg + k->offset) = us;
	return true;
}

/* true or false (also yes/no, on/off, 1/0). */
static bool set_bool(struct config *cfg, const struct config_key *k, const char *text, char *why,
                     size_t cap)
{
	static const char *const yes[] = {"true", "yes", "on", "1"};
	static const char *const no[] = {"false", "no", "off", "0"};
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		bool on = strcmp(text, yes[i]) == 0;
		if (on || strcmp(text, no[i]) == 0) {
			*(bool *)((char *)cfg + k->offset) = on;
			return true;
		}
	}
	snprintf(why, cap, "%s takes true or false, not '%s'", k->name, text);
	return false;
}

static bool set_enum(struct config *cfg, const struct config_key *k, const char *text, char *why,
                     size_t cap)
{
	for (unsigned i = 0; k->choices[i] != NULL; i++) {
		if (strcmp(text, k->choices[i]) == 0) {
			*(unsigned *)((char *)cfg + k->offset) = i;
			return true;
		}
	}
	size_t n = (size_t)snprintf(why, cap, "%s takes one of", k->name);
	for (unsigned i = 0; k->choices[i] != NULL && n < cap; i++)
		n += (size_t)snprintf(why + n, cap - n, "%s %s", i ? "," : "", k->choices[i]);
	if (n < cap)
		snprintf(why + n, cap - n, "; not '%s'", text);
	return false;
}

/*
 * A host name as DNS spells one: dot-separated labels of 1-63 letters,
 * digits and '-' (not first or last), 253 bytes at most.  Something made
 * only of digits and dots must be an IPv4 address: getaddrinfo would read
 * "1.2.3" as 1.2.0.3.
 */
static bool valid_host(const char *host)
{
	struct in_addr v4;
	size_t len = strlen(host), label = 0;

	if (strspn(host, "0123456789.") == len)
		return inet_pton(AF_INET, host, &v4) == 1;
	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i <= len; i++) {
		char ch = host[i];
		if (ch == '.' || ch == '\0') {
			if (label == 0 || label > 63 || host[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		             (ch >= '0' && ch <= '9');
		if (!alnum && !(ch == '-' && label > 0))
			return false;
		label++;
	}
	return true;
}

static bool parse_one_listen(const char *text, size_t len, struct config_listen *out)
{
	char buf[sizeof(out->host) + 16];
	const char *host, *port;
	size_t hlen;
	bool v6 = false;

	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, text, len);
	buf[len] = '\0';
	if (buf[0] == '[') {
		char *close = strchr(buf, ']');
		if (close == NULL || close[1] != ':')
			return false;
		host = buf + 1;
		hlen = (size_t)(close - host);
		port = close + 2;
		*close = '\0';
		v6 = true;
	} else {
		char *colon = strrchr(buf, ':');
		if (colon == NULL || memchr(buf, ':', (size_t)(colon - buf)) != NULL)
			return false;
		host = buf;
		hlen = (size_t)(colon - buf);
		port = colon + 1;
		*colon = '\0';
	}
	if (hlen == 0 && !v6) {
		host = "127.0.0.1";
		hlen = strlen(host);
	}
	if (hlen >= sizeof(out->host))
		return false;
	struct in6_addr a6;
	if (v6 ? inet_pton(AF_INET6, host, &a6) != 1 : !valid_host(host))
		return false;
	char *end;
	errno = 0;
	unsigned long p = strtoul(port, &end, 10);
	if (port[0] < '0' || port[0] > '9' || *end != '\0' || errno != 0 || p > 65535)
		return false;
	memcpy(out->host, host, hlen);
	out->host[hlen] = '\0';
	out->port = (uint16_t)p;
	return true;
}

static bool set_listen(struct config *cfg, const struct config_key *k, const char *text, char *why,
                       size_t cap)
{
	struct config_listen list[CONFIG_MAX_LISTEN];
	size_t n = 0;
	const char *p = text;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		size_t len = strcspn(p, ",");
		size_t trimmed = len;
		while (trimmed > 0 && (p[trimmed - 1] == ' ' || p[trimmed - 1] == '\t'))
			trimmed--;
		if (n == CONFIG_MAX_LISTEN) {
			snprintf(why, cap, "listen takes at most %d addresses", CONFIG_MAX_LISTEN);
			return false;
		}
		if (!parse_one_listen(p, trimmed, &list[n])) {
			snprintf(why, cap,
			         "listen takes HOST:PORT or [IPV6]:PORT addresses separated by "
			         "commas (HOST: an IPv4 address or a host name), not '%.*s'",
			         (int)trimmed, p);
			return false;
		}
		n++;
		if (p[len] == '\0')
			break;
		p += len + 1;
	}
	memcpy(cfg->listen, list, sizeof(list));
	cfg->nlisten = n;
	return true;
}

/* The authority of an http(s) URL ("user@host:port"): from after "://" to the path. */
static size_t url_authority(const char *host)
{
	return strcspn(host, "/?#");
}

static bool set_url(struct config *cfg, const struct config_key *k, const char *text, char *why,
                    size_t cap)
{
	bool scheme = strncmp(text, "https://", 8) == 0 || strncmp(text, "http://", 7) == 0;
	const char *host = scheme ? strstr(text, "://") + 3 : NULL;
	/*
	 * Every clone_url tagd answers starts with this base, to any caller: a
	 * user:password@ in it would hand the credential out.  Refused, and the
	 * value is not echoed in the message.
	 */
	if (scheme && memchr(host, '@', url_authority(host)) != NULL) {
		snprintf(why, cap,
		         "%s must not contain user information (user:password@): every "
		         "clone_url answered to clients starts with it",
		         k->name);
		return false;
	}
	if (!scheme || host[0] == '\0' || host[0] == '/' || strpbrk(text, " \t\"\\") != NULL) {
		snprintf(why, cap, "%s takes an http:// or https:// URL, not '%s'", k->name, text);
		return false;
	}
	if (!set_string(cfg, k, text, why, cap))
		return false;
	/* Clone URLs are built as BASE/NAME.git: drop a trailing slash. */
	char *v = *(char **)((char *)cfg + k->offset);
	size_t len = strlen(v);
	while (len > 0 && v[len - 1] == '/')
		v[--len] = '\0';
	return true;
}

#define KEY(field) offsetof(struct config, field)

static const struct config_key keys[] = {
        {"listen", "listen", "127.0.0.1:8080", set_listen, 0, 0, 0, NULL, false, false,
         "addresses to listen on, comma-separated: HOST:PORT or [IPV6]:PORT; a host name is "
         "resolved at start and each of its addresses bound (port 0: any free port)"},
        {"db", "db", CONFIG_DEFAULT_DB, set_path, KEY(db), 0, 0, NULL, false, false,
         "the database: a SQLite file, or a PostgreSQL URI (postgresql://...)"},
        {"db_pool_size", "db-pool-size", "8", set_uint, KEY(db_pool_size), 3, 1000, NULL, false,
         false,
         "PostgreSQL: connections this node opens at most (the writer's, the token listener's "
         "and the readers')"},
        {"db_timeout", "db-timeout", "5", set_uint, KEY(db_timeout), 1, 3600, NULL, false, false,
         "PostgreSQL: seconds to connect or answer before a request gets 503"},
        {"threads", "threads", "0", set_uint, KEY(threads), 0, 256, NULL, false, false,
         "HTTP threads (0: one per core)"},
        {"max_connections", "max-connections", "1024", set_uint, KEY(max_connections), 1, 100000,
         NULL, false, false, "open connections at most"},
        {"max_connections_per_ip", "max-connections-per-ip", "0", set_uint,
         KEY(max_connections_per_ip), 0, 100000, NULL, false, false,
         "open connections per client address at most (0: no limit)"},
        {"connection_timeout", "connection-timeout", "30", set_uint, KEY(connection_timeout), 1,
         86400, NULL, true, false, "seconds an idle connection is kept"},
        {"max_body", "max-body", "1048576", set_bytes, KEY(max_body), 1, 1UL << 30, NULL, true,
         false, "largest request body accepted, in bytes, or with a K, M or G suffix"},
        {"synchronous", "synchronous", "full", set_enum, KEY(synchronous), 0, 0, sync_names, false,
         false, "full: every acknowledged write survives power loss; normal: faster"},
        {"clone_base_url", "clone-base-url", "https://git.example.com", set_url,
         KEY(clone_base_url), 0, 0, NULL, false, false,
         "base of the ServiceStage clone URLs (BASE/NAME.git)"},
        {"log_level", "log-level", "info", set_enum, KEY(log_level), 0, 0, level_names, true, false,
         "debug, info, warn or error"},
        {"log_format", "log-format", "logfmt", set_enum, KEY(log_format), 0, 0, format_names, true,
         false, "logfmt or json"},
        {"log_file", "log-file", "", set_optional_path, KEY(log_file), 0, 0, NULL, true, false,
         "append the log to this file (reopened on SIGHUP); empty: stderr"},
        {"shutdown_timeout", "shutdown-timeout", "10", set_uint, KEY(shutdown_timeout), 0, 3600,
         NULL, true, false, "seconds requests in flight get to finish on SIGTERM"},
        {"tls_cert", "tls-cert", "", set_optional_path, KEY(tls_cert), 0, 0, NULL, false, false,
         "serve HTTPS with this PEM certificate (chain); re-read on SIGHUP; empty: plain HTTP"},
        {"tls_key", "tls-key", "", set_optional_path, KEY(tls_key), 0, 0, NULL, false, false,
         "the PEM private key of tls_cert; re-read on SIGHUP"},
        {"tls_priorities", "tls-priorities", "", set_string, KEY(tls_priorities), 0, 0, NULL, false,
         false, "GnuTLS priority string; empty: TLS 1.2 and 1.3 with AEAD ciphers only"},
        {"write_batch", "write-batch", "0", set_uint, KEY(write_batch), 0, 65536, NULL, false,
         false, "writes committed together at most (0: 256; 1 turns group commit off)"},
        {"history_retention", "history-retention", "0", set_duration, KEY(history_retention), 0, 0,
         NULL, true, false,
         "prune history events older than this (365d, 52w...); 0: keep them forever"},
        {"hook_allow_private", "hook-allow-private", "false", set_bool, KEY(hook_allow_private), 0,
         0, NULL, false, false,
         "deliver webhooks to loopback, private, link-local and multicast addresses too"},
};

#define NKEYS (sizeof(keys) / sizeof(keys[0]))
_Static_assert(NKEYS <= CONFIG_MAX_KEYS, "raise CONFIG_MAX_KEYS");

const struct config_key *config_key_at(size_t i)
{
	return i < NKEYS ? &keys[i] : NULL;
}

size_t config_key_count(void)
{
	return NKEYS;
}

const char *config_key_name(const struct config_key *k)
{
	return k->name;
}

bool config_key_reloadable(const struct config_key *k)
{
	return k->reloadable;
}

const char *config_key_flag(const struct config_key *k)
{
	return k->flag;
}

const char *config_key_default(const struct config_key *k)
{
	return k->default_text;
}

const char *config_key_help(const struct config_key *k)
{
	return k->help;
}

const struct config_key *config_key_find(const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (strcmp(keys[i].name, name) == 0 || strcmp(keys[i].flag, name) == 0)
			return &keys[i];
	return NULL;
}

/* ---- errors ---- */

/* Append one line to the message in *acc; keeps going when out of memory. */
static void add_err(char **acc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_err(char **acc, const char *fmt, ...)
{
	va_list ap;
	char *line = NULL, *joined = NULL;

	va_start(ap, fmt);
	if (vasprintf(&line, fmt, ap) < 0)
		line = NULL;
	va_end(ap);
	if (line == NULL)
		return;
	if (*acc == NULL) {
		*acc = line;
		return;
	}
	if (asprintf(&joined, "%s\n%s", *acc, line) >= 0) {
		free(*acc);
		*acc = joined;
	}
	free(line);
}

/* ---- setting one key ---- */

static bool set_key(struct config *cfg, size_t i, const char *text, const char *origin, char **err)
{
	char why[256];
	const struct config_key *k = &keys[i];

	if (!k->set(cfg, k, text, why, sizeof(why))) {
		add_err(err, "%s: %s", origin, why);
		return false;
	}
	/* Print URLs as they are used (normalized), everything else as given. */
	if (k->set == set_url)
		text = *(char **)((char *)cfg + k->offset);
	char *t = strdup(text), *o = strdup(origin);
	if (t == NULL || o == NULL) {
		free(t);
		free(o);
		add_err(err, "%s: out of memory", origin);
		return false;
	}
	free(cfg->text[i]);
	free(cfg->origin[i]);
	cfg->text[i] = t;
	cfg->origin[i] = o;
	return true;
}

/* ---- the file ---- */

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n > 0 &&
	       (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = '\0';
	return s;
}

/* Split one line into key and value; NULL key for blank lines and comments. */
static bool split_line(char *line, char **key, char **value, const char **why)
{
	char *s = trim(line);
	*key = NULL;
	if (*s == '\0' || *s == '#')
		return true;
	char *eq = strchr(s, '=');
	if (eq == NULL) {
		*why = "expected 'key = value'";
		return false;
	}
	*eq = '\0';
	*key = trim(s);
	char *v = trim(eq + 1);
	if (*v == '"') {
		char *close = strchr(v + 1, '"');
		if (close == NULL) {
			*why = "unterminated quoted value";
			return false;
		}
		*close = '\0';
		char *rest = trim(close + 1);
		if (*rest != '\0' && *rest != '#') {
			*why = "text after the quoted value";
			return false;
		}
		*value = v + 1;
		return true;
	}
	for (char *p = v; *p != '\0'; p++) {
		if (*p == '#' && (p == v || p[-1] == ' ' || p[-1] == '\t')) {
			*p = '\0';
			break;
		}
	}
	*value = trim(v);
	return true;
}

static void load_file(struct config *cfg, const char *path, bool must_exist, char **err)
{
	FILE *f = fopen(path, "r");
	char line[LINE_MAX_BYTES + 2];
	unsigned first_line[CONFIG_MAX_KEYS] = {0};
	unsigned lineno = 0;

	if (f == NULL) {
		if (errno == ENOENT && !must_exist)
			return;
		add_err(err, "%s: cannot read the configuration file: %s", path, strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char where[512], *key, *value;
		const char *why = NULL;

		lineno++;
		snprintf(where, sizeof(where), "%s:%u", path, lineno);
		if (lineno > MAX_LINES) {
			add_err(err, "%s: too many lines", where);
			break;
		}
		size_t len = strlen(line);
		if (len > LINE_MAX_BYTES) {
			add_err(err, "%s: line longer than %d bytes", where, LINE_MAX_BYTES);
			break;
		}
		if (!split_line(line, &key, &value, &why)) {
			add_err(err, "%s: %s", where, why);
			continue;
		}
		if (key == NULL)
			continue;
		const struct config_key *k = NULL;
		for (size_t i = 0; i < NKEYS && k == NULL; i++)
			if (strcmp(keys[i].name, key) == 0)
				k = &keys[i];
		if (k == NULL) {
			add_err(err, "%s: unknown key '%s'", where, key);
			continue;
		}
		size_t i = (size_t)(k - keys);
		if (first_line[i] != 0) {
			add_err(err, "%s: '%s' is set twice (first on line %u)", where, key,
			        first_line[i]);
			continue;
		}
		first_line[i] = lineno;
		set_key(cfg, i, value, where, err);
	}
	if (ferror(f))
		add_err(err, "%s: read error", path);
	fclose(f);
}

/* ---- the sources ---- */

void config_release(struct config *cfg)
{
	free(cfg->db);
	free(cfg->clone_base_url);
	free(cfg->log_file);
	free(cfg->tls_cert);
	free(cfg->tls_key);
	free(cfg->tls_priorities);
	for (size_t i = 0; i < CONFIG_MAX_KEYS; i++) {
		free(cfg->text[i]);
		free(cfg->origin[i]);
	}
	memset(cfg, 0, sizeof(*cfg));
}

bool config_load(struct config *cfg, const struct config_args *args, char **err)
{
	*err = NULL;
	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < NKEYS; i++)
		set_key(cfg, i, keys[i].default_text, "default", err);

	const char *path = args->config_path;
	const char *env_path = getenv("TAGD_CONFIG");
	bool explicit_path = path != NULL || (env_path != NULL && env_path[0] != '\0');
	if (path == NULL)
		path = explicit_path ? env_path : CONFIG_DEFAULT_PATH;
	if (*err == NULL)
		load_file(cfg, path, explicit_path, err);

	for (size_t i = 0; i < NKEYS && *err == NULL; i++) {
		char name[64], where[80];
		size_t n = (size_t)snprintf(name, sizeof(name), "TAGD_");
		for (const char *p = keys[i].name; *p != '\0' && n < sizeof(name) - 1; p++)
			name[n++] = (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
		name[n] = '\0';
		const char *v = getenv(name);
		if (v == NULL)
			continue;
		snprintf(where, sizeof(where), "environment %s", name);
		set_key(cfg, i, v, where, err);
	}
	for (size_t j = 0; j < args->nset; j++) {
		char where[80];
		snprintf(where, sizeof(where), "--%s", args->set[j].key->flag);
		set_key(cfg, (size_t)(args->set[j].key - keys), args->set[j].value, where, err);
	}
	if (*err != NULL) {
		config_release(cfg);
		return false;
	}
	return true;
}

bool config_args_set(struct config_args *args, const struct config_key *k, const char *value,
                     char **err)
{
	for (size_t j = 0; j < args->nset; j++) {
		if (args->set[j].key == k) {
			*err = NULL;
			add_err(err, "option '--%s' is given twice", k->flag);
			return false;
		}
	}
	if (args->nset == CONFIG_MAX_FLAGS) {
		*err = NULL;
		add_err(err, "too many options");
		return false;
	}
	args->set[args->nset].key = k;
	args->set[args->nset].value = value;
	args->nset++;
	return true;
}

/*
 * v with the password of a URI (scheme://user:PASSWORD@host, or a
 * password=... parameter) written as ***, into buf; v itself when it has none.
 */
static const char *masked(const char *v, char *buf, size_t cap)
{
	const char *auth = strstr(v, "://");
	const char *pw = strstr(v, "password=");
	if (auth != NULL) {
		auth += 3;
		const char *at = strchr(auth, '@'), *slash = strchr(auth, '/');
		const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
		if (colon != NULL && (slash == NULL || at < slash)) {
			snprintf(buf, cap, "%.*s***%s", (int)(colon + 1 - v), v, at);
			return buf;
		}
	}
	if (pw != NULL) {
		size_t end = strcspn(pw + 9, "& ");
		snprintf(buf, cap, "%.*s***%s", (int)(pw + 9 - v), v, pw + 9 + end);
		return buf;
	}
	return v;
}

void config_print(const struct config *cfg, FILE *f)
{
	fprintf(f, "# tagd effective configuration (key = value  # where it comes from)\n");
	for (size_t i = 0; i < NKEYS; i++) {
		const struct config_key *k = &keys[i];
		char buf[4096];
		const char *v = masked(cfg->text[i] ? cfg->text[i] : "", buf, sizeof(buf));
		bool quote = v[0] == '\0' || strchr(v, '#') != NULL || v[0] == ' ';
		int n = fprintf(f, "%s = ", k->name);
		if (k->secret) {
			fputs("\"<hidden>\"", f);
			n += 10;
		} else {
			if (quote)
				fputc('"', f);
			fputs(v, f);
			if (quote)
				fputc('"', f);
			n += (int)strlen(v) + (quote ? 2 : 0);
		}
		fprintf(f, "%*s# %s%s\n", n < 40 ? 40 - n : 1, "",
		        cfg->origin[i] ? cfg->origin[i] : "",
		        k->reloadable ? "" : " (restart to change)");
	}
}

bool config_key_changed(const struct config *a, const struct config *b, size_t i)
{
	const char *x = a->text[i] ? a->text[i] : "", *y = b->text[i] ? b->text[i] : "";
	return strcmp(x, y) != 0;
}
