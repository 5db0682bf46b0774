#!/usr/bin/env python3
"""A webhook receiver for bench/ab.py: answers every POST 204 at once (HTTP/1.1
keep-alive), counts them, and prints its port on the first line of stdout.
On SIGTERM it prints the count and exits.

    bench/hook_receiver.py
"""
import http.server
import os
import signal
import threading

count = 0
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def do_POST(self):
        global count
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with lock:
            count += 1
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.handle_error = lambda request, address: None  # tagd stopped mid-connection

    def stop(*_):
        print(count, flush=True)
        os._exit(0)  # the handler threads go with the process

    signal.signal(signal.SIGTERM, stop)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
