/*
 * baseline_mhd - the floor tagd is measured against: libmicrohttpd in the
 * same threading mode as tagd (internal epoll thread pool, one thread per
 * core), answering a fixed JSON body only once the request has been read
 * completely (the second access-handler call), as tagd does.
 *
 * usage: baseline_mhd PORT BODY_BYTES
 */
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *body;
static size_t body_len;

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload,
                                 size_t *upload_size, void **con_cls)
{
	static int first_call_marker;
	if (*con_cls == NULL) {
		*con_cls = &first_call_marker;
		return MHD_YES;
	}
	if (*upload_size != 0) {
		*upload_size = 0;
		return MHD_YES;
	}
	struct MHD_Response *r =
	        MHD_create_response_from_buffer(body_len, body, MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
	enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: baseline_mhd PORT BODY_BYTES\n");
		return 2;
	}
	body_len = strtoul(argv[2], NULL, 10);
	body = malloc(body_len + 1);
	if (body == NULL || body_len < 2)
		return 1;
	/* A JSON string of the requested size: {"x":"aaaa..."} */
	memset(body, 'a', body_len);
	memcpy(body, "{\"x\":\"", 6);
	memcpy(body + body_len - 2, "\"}", 2);

	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	struct MHD_Daemon *d =
	        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL,
	                         (uint16_t)atoi(argv[1]), NULL, NULL, on_access, NULL,
	                         MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(cores > 0 ? cores : 1),
	                         MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_CONNECTION_LIMIT,
	                         4096u, MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u, MHD_OPTION_END);
	if (d == NULL) {
		fprintf(stderr, "baseline_mhd: cannot start\n");
		return 1;
	}
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGTERM);
	sigaddset(&s, SIGINT);
	sigprocmask(SIG_BLOCK, &s, NULL);
	int sig;
	sigwait(&s, &sig);
	MHD_stop_daemon(d);
	free(body);
	return 0;
}
