/*
 * serve - "tagd serve": open the store, start the HTTP server, run until
 * SIGTERM/SIGINT, then drain and stop cleanly.
 */
#ifndef TAGD_SERVE_H
#define TAGD_SERVE_H

/* argv[0] is "serve".  Returns the process exit status. */
int serve_main(int argc, char **argv);

#endif
