/*
 * serve - "tagd serve": open the store, start the HTTP server, run until
 * SIGTERM/SIGINT, then drain and stop cleanly.
 */
#ifndef TAGD_SERVE_H
#define TAGD_SERVE_H

#include <stdbool.h>
#include <stddef.h>

/* argv[0] is "serve".  Returns the process exit status. */
int serve_main(int argc, char **argv);

/*
 * Split "HOST:PORT", "[V6]:PORT" or ":PORT" (host 127.0.0.1) into host
 * (copied into host, cap bytes) and port.  Returns false when malformed.
 */
bool serve_parse_listen(const char *text, char *host, size_t cap, unsigned *port);

#endif
