#!/usr/bin/env python3
"""A small HTTP server for the image tests, on 127.0.0.1 only.

Serves the files of a directory with what downloads rely on and Python's http.server lacks:
Range requests (206, Content-Range, 416), If-Range, ETag / If-None-Match (304) and
Last-Modified / If-Modified-Since. It can cut a transfer short to test resuming, and logs every
request as a JSON line so tests can check what was transferred.

Usage: range-server.py DIR LOG [--cut NAME] [--slow NAME] ...
Prints the port on stdout, then serves until killed. --cut NAME: the first GET of /NAME sends
its headers for the whole file, half the body, and closes the connection. --slow NAME: /NAME is
sent at about 1 MiB/s, so that a test can interrupt its download. A file whose name starts with
"unsized-" is sent without Content-Length, the end of the body marked by closing the connection
(as a server that streams what it generates does), so that a client cannot know its size first.
"""
import email.utils
import http.server
import json
import os
import sys
import threading
import time

root, log_path = sys.argv[1], sys.argv[2]
cut = {a for i, a in enumerate(sys.argv) if i > 0 and sys.argv[i - 1] == "--cut"}
slow = {a for i, a in enumerate(sys.argv) if i > 0 and sys.argv[i - 1] == "--slow"}
lock = threading.Lock()


def log(entry):
    with lock, open(log_path, "a") as f:
        f.write(json.dumps(entry) + "\n")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_HEAD(self):
        self.serve(head=True)

    def do_GET(self):
        self.serve(head=False)

    def finish_with(self, status, sent, rng=None):
        log({"method": self.command, "path": self.path, "status": status, "bytes": sent,
             "range": rng, "if_none_match": self.headers.get("If-None-Match"),
             "if_range": self.headers.get("If-Range")})

    def serve(self, head):
        name = self.path.lstrip("/").split("?")[0]
        path = os.path.join(root, name)
        if "/" in name or not os.path.isfile(path):
            body = b"not found\n"
            self.send_response(404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not head:
                self.wfile.write(body)
            self.finish_with(404, 0)
            return
        st = os.stat(path)
        size = st.st_size
        etag = '"%x-%x"' % (size, st.st_mtime_ns)
        modified = email.utils.formatdate(st.st_mtime, usegmt=True)
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            self.finish_with(304, 0)
            return
        start, end, status = 0, size - 1, 200
        rng = self.headers.get("Range")
        if_range = self.headers.get("If-Range")
        if rng and (if_range is None or if_range == etag):
            spec = rng.replace("bytes=", "", 1)
            first, _, last = spec.partition("-")
            start = int(first) if first else 0
            end = int(last) if last else size - 1
            if start >= size or end < start:
                self.send_response(416)
                self.send_header("Content-Range", "bytes */%d" % size)
                self.send_header("Content-Length", "0")
                self.end_headers()
                self.finish_with(416, 0, rng)
                return
            end = min(end, size - 1)
            status = 206
        length = end - start + 1
        unsized = name.startswith("unsized-")
        self.send_response(status)
        if unsized:
            self.send_header("Connection", "close")
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(length))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", modified)
        if status == 206:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end, size))
        self.end_headers()
        if head:
            self.finish_with(status, 0, rng)
            return
        limit = length
        cutting = name in cut and status == 200
        if cutting:
            cut.discard(name)
            limit = length // 2
        sent = 0
        with open(path, "rb") as f:
            f.seek(start)
            step = 64 << 10 if name in slow else 1 << 20
            while sent < limit:
                if name in slow:
                    time.sleep(1 / 16)
                chunk = f.read(min(step, limit - sent))
                if not chunk:
                    break
                try:
                    self.wfile.write(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    break
                sent += len(chunk)
        self.finish_with(status, sent, rng)
        if cutting:
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)


def exit_with_parent():
    # The test holds our stdin open; when it ends, however it ends, so do we.
    sys.stdin.buffer.read()
    os._exit(0)


threading.Thread(target=exit_with_parent, daemon=True).start()
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()
