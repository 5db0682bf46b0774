/*
 * serve - "tagd serve": open the store, start the HTTP server, run until
 * SIGTERM/SIGINT, then drain and stop cleanly.
 */
#ifndef TAGD_SERVE_H
#define TAGD_SERVE_H

struct config_args;

/*
 * Serve with the configuration args asks for (borrowed: read again on each
 * SIGHUP, so it must outlive the call).  Returns the process exit status.
 */
int serve_run(const struct config_args *args);

#endif
