/*
 * tls - certificates for tagd's HTTPS: reading and checking them with
 * GnuTLS, and handing the current ones to each TLS handshake.  The only
 * module that knows GnuTLS (libmicrohttpd does the TLS itself).
 *
 * Handshakes do not take the certificate from libmicrohttpd's daemon but
 * from tls_cert_callback(), which reads the credentials installed last.  So
 * a reload (SIGHUP) swaps certificates in the running daemon: connections
 * already open keep theirs, the next handshake gets the new ones, and no
 * listening socket is closed.
 */
#ifndef TAGD_TLS_H
#define TAGD_TLS_H

#include <stdbool.h>

/*
 * TLS 1.3 and 1.2 only; AEAD ciphers only (AES-GCM, ChaCha20-Poly1305);
 * in TLS 1.2 only ECDHE key exchange (forward secrecy); the server's order.
 */
#define TLS_DEFAULT_PRIORITIES                                                                     \
	"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:"        \
	"+CHACHA20-POLY1305:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:-MAC-ALL:+AEAD:%SERVER_PRECEDENCE"

/* Largest certificate chain or key file read. */
#define TLS_MAX_FILE (1024 * 1024)

struct tls_creds;

/*
 * Read a PEM certificate chain and its PEM private key (unencrypted) and
 * check them: both parse, the key belongs to the first certificate, and that
 * certificate is valid now (not expired, not yet to come).  On error, NULL is
 * returned and *err is set to a malloc'd one-line message naming the file.
 */
struct tls_creds *tls_creds_load(const char *cert_file, const char *key_file, char **err);

/* Free credentials that were never installed; NULLs *cp. */
void tls_creds_free(struct tls_creds **cp);

/* Expiry of the first certificate, seconds since the epoch (for logs). */
long long tls_creds_expiry(const struct tls_creds *c);

/*
 * Check a GnuTLS priority string.  On error returns false and sets *err to a
 * malloc'd message showing where the string goes wrong.
 */
bool tls_priorities_check(const char *priorities, char **err);

/*
 * Make creds (taken over) the credentials of every new handshake.  The
 * credentials they replace stay allocated for an hour, for handshakes that
 * may have just picked them up, and are freed by a later install or by
 * tls_uninstall().  There is one set per process: GnuTLS's callback carries
 * no context pointer.
 */
void tls_install(struct tls_creds *creds);

/* Free the installed and replaced credentials (after the server stopped). */
void tls_uninstall(void);

/*
 * The handshake callback, to give to libmicrohttpd as
 * MHD_OPTION_HTTPS_CERT_CALLBACK (a gnutls_certificate_retrieve_function2).
 */
void *tls_cert_callback(void);

#endif
