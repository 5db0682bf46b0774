/*
 * tls.c - loading, checking and serving TLS credentials.  See tls.h.
 */
#include <errno.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "errmsg.h"
#include "tls.h"

#define MAX_CHAIN 16
/* Replaced credentials are kept this long for handshakes that picked them up just before. */
#define RETIRE_GRACE_S 3600

struct tls_creds {
	gnutls_pcert_st chain[MAX_CHAIN];
	unsigned nchain;
	gnutls_privkey_t key;
	time_t expires;
	time_t retired_at;
	struct tls_creds *next_retired;
};

/* Read a whole file of at most TLS_MAX_FILE bytes; NUL-terminated. */
static bool read_file(const char *what, const char *path, gnutls_datum_t *out, char **err)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0;

	if (f == NULL) {
		*err = errmsg_fmt("cannot read TLS %s %s: %s", what, path, strerror(errno));
		return false;
	}
	buf = malloc(TLS_MAX_FILE + 1);
	if (buf == NULL) {
		*err = errmsg_fmt("out of memory");
		goto fail;
	}
	len = fread(buf, 1, TLS_MAX_FILE + 1, f);
	if (ferror(f)) {
		*err = errmsg_fmt("cannot read TLS %s %s: %s", what, path, strerror(errno));
		goto fail;
	}
	if (len > TLS_MAX_FILE) {
		*err = errmsg_fmt("TLS %s %s is larger than %d bytes", what, path, TLS_MAX_FILE);
		goto fail;
	}
	buf[len] = '\0';
	fclose(f);
	out->data = (unsigned char *)buf;
	out->size = (unsigned)len;
	return true;
fail:
	free(buf);
	fclose(f);
	return false;
}

static void free_datum(gnutls_datum_t *d)
{
	if (d->data != NULL)
		explicit_bzero(d->data, d->size);
	free(d->data);
	d->data = NULL;
}

static void format_time(time_t t, char *buf, size_t cap)
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The first certificate of the chain is the server's: it must be valid now. */
static bool check_validity(struct tls_creds *c, const char *cert_file, char **err)
{
	gnutls_x509_crt_t crt;
	char when[32];

	if (gnutls_x509_crt_init(&crt) < 0) {
		*err = errmsg_fmt("out of memory");
		return false;
	}
	int rc = gnutls_x509_crt_import(crt, &c->chain[0].cert, GNUTLS_X509_FMT_DER);
	if (rc < 0) {
		*err = errmsg_fmt("TLS certificate %s: %s", cert_file, gnutls_strerror(rc));
		gnutls_x509_crt_deinit(crt);
		return false;
	}
	time_t now = time(NULL);
	time_t not_before = gnutls_x509_crt_get_activation_time(crt);
	c->expires = gnutls_x509_crt_get_expiration_time(crt);
	gnutls_x509_crt_deinit(crt);
	if (c->expires == (time_t)-1 || c->expires <= now) {
		format_time(c->expires, when, sizeof(when));
		*err = errmsg_fmt("TLS certificate %s expired on %s", cert_file, when);
		return false;
	}
	if (not_before != (time_t)-1 && not_before > now) {
		format_time(not_before, when, sizeof(when));
		*err = errmsg_fmt("TLS certificate %s is not valid before %s", cert_file, when);
		return false;
	}
	return true;
}

/* GnuTLS's own pairing check: it refuses a key that is not the certificate's. */
static bool check_pair(const gnutls_datum_t *cert, const gnutls_datum_t *key, const char *cert_file,
                       const char *key_file, char **err)
{
	gnutls_certificate_credentials_t cred;
	if (gnutls_certificate_allocate_credentials(&cred) < 0) {
		*err = errmsg_fmt("out of memory");
		return false;
	}
	int rc =
	        gnutls_certificate_set_x509_key_mem2(cred, cert, key, GNUTLS_X509_FMT_PEM, NULL, 0);
	gnutls_certificate_free_credentials(cred);
	if (rc == GNUTLS_E_CERTIFICATE_KEY_MISMATCH) {
		*err = errmsg_fmt("TLS key %s does not match certificate %s", key_file, cert_file);
		return false;
	}
	if (rc < 0) {
		*err = errmsg_fmt("TLS certificate %s with key %s: %s", cert_file, key_file,
		                  gnutls_strerror(rc));
		return false;
	}
	return true;
}

struct tls_creds *tls_creds_load(const char *cert_file, const char *key_file, char **err)
{
	gnutls_datum_t cert = {NULL, 0}, key = {NULL, 0};
	struct tls_creds *c = NULL;
	int rc;

	*err = NULL;
	if (!read_file("certificate", cert_file, &cert, err) ||
	    !read_file("key", key_file, &key, err))
		goto fail;
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		*err = errmsg_fmt("out of memory");
		goto fail;
	}
	c->nchain = MAX_CHAIN;
	rc = gnutls_pcert_list_import_x509_raw(c->chain, &c->nchain, &cert, GNUTLS_X509_FMT_PEM, 0);
	if (rc < 0 || c->nchain == 0) {
		c->nchain = 0;
		*err = errmsg_fmt("TLS certificate %s: %s", cert_file,
		                  rc < 0 ? gnutls_strerror(rc) : "no certificate in the file");
		goto fail;
	}
	rc = gnutls_privkey_init(&c->key);
	if (rc < 0) {
		*err = errmsg_fmt("out of memory");
		goto fail;
	}
	rc = gnutls_privkey_import_x509_raw(c->key, &key, GNUTLS_X509_FMT_PEM, NULL, 0);
	if (rc < 0) {
		*err = errmsg_fmt("TLS key %s: %s (an unencrypted PEM key is needed)", key_file,
		                  gnutls_strerror(rc));
		goto fail;
	}
	if (!check_pair(&cert, &key, cert_file, key_file, err) ||
	    !check_validity(c, cert_file, err))
		goto fail;
	free_datum(&cert);
	free_datum(&key);
	return c;
fail:
	free_datum(&cert);
	free_datum(&key);
	tls_creds_free(&c);
	if (*err == NULL)
		*err = errmsg_fmt("out of memory");
	return NULL;
}

void tls_creds_free(struct tls_creds **cp)
{
	struct tls_creds *c = *cp;
	if (c == NULL)
		return;
	for (unsigned i = 0; i < c->nchain; i++)
		gnutls_pcert_deinit(&c->chain[i]);
	if (c->key != NULL)
		gnutls_privkey_deinit(c->key);
	free(c);
	*cp = NULL;
}

long long tls_creds_expiry(const struct tls_creds *c)
{
	return (long long)c->expires;
}

bool tls_priorities_check(const char *priorities, char **err)
{
	gnutls_priority_t p;
	const char *where = NULL;
	int rc = gnutls_priority_init(&p, priorities, &where);

	*err = NULL;
	if (rc < 0) {
		*err = errmsg_fmt("TLS priorities: invalid at \"%.40s\" (%s)",
		                  where ? where : priorities, gnutls_strerror(rc));
		return false;
	}
	gnutls_priority_deinit(p);
	return true;
}

/* ---- the installed credentials ---- */

static pthread_mutex_t installed_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tls_creds *installed;
static struct tls_creds *retired;

void tls_install(struct tls_creds *creds)
{
	time_t now = time(NULL);
	struct tls_creds *expired = NULL;

	pthread_mutex_lock(&installed_lock);
	if (installed != NULL) {
		installed->retired_at = now;
		installed->next_retired = retired;
		retired = installed;
	}
	installed = creds;
	/* Unlink what was replaced long enough ago that no handshake can still hold it. */
	for (struct tls_creds **pp = &retired; *pp != NULL;) {
		struct tls_creds *c = *pp;
		if (now - c->retired_at > RETIRE_GRACE_S) {
			*pp = c->next_retired;
			c->next_retired = expired;
			expired = c;
		} else {
			pp = &c->next_retired;
		}
	}
	pthread_mutex_unlock(&installed_lock);
	while (expired != NULL) {
		struct tls_creds *next = expired->next_retired;
		tls_creds_free(&expired);
		expired = next;
	}
}

void tls_uninstall(void)
{
	pthread_mutex_lock(&installed_lock);
	struct tls_creds *c = installed, *r = retired;
	installed = retired = NULL;
	pthread_mutex_unlock(&installed_lock);
	tls_creds_free(&c);
	while (r != NULL) {
		struct tls_creds *next = r->next_retired;
		tls_creds_free(&r);
		r = next;
	}
}

static int cert_callback(gnutls_session_t session, const gnutls_datum_t *req_ca_rdn, int nreqs,
                         const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
                         gnutls_pcert_st **pcert, unsigned int *pcert_length,
                         gnutls_privkey_t *pkey)
{
	int ret = -1;
	pthread_mutex_lock(&installed_lock);
	if (installed != NULL) {
		*pcert = installed->chain;
		*pcert_length = installed->nchain;
		*pkey = installed->key;
		ret = 0;
	}
	pthread_mutex_unlock(&installed_lock);
	return ret;
}

void *tls_cert_callback(void)
{
	/* A function pointer passed through libmicrohttpd's variadic option list. */
	gnutls_certificate_retrieve_function2 *fn = cert_callback;
	return (void *)fn;
}
