#!/usr/bin/env python3
"""Runs Ravine's benchmark page on a machine that has a GPU but no Node (bench/gpu.ts prepares
what it needs). Serves the built page with the cross-origin isolation headers the lab sends,
starts Chromium's headless shell with each set of GPU flags in turn until a WebGL context
reports a hardware renderer, then lets the page run gpu-plan.json and writes what it posts.

usage: serve.py SITE_DIR PUBLIC_DIR CHROMIUM OUT_DIR [TIMEOUT_S]
"""
import http.server
import json
import os
import subprocess
import sys
import threading
import time

SITE, PUBLIC, CHROME, OUT = sys.argv[1:5]
TIMEOUT = float(sys.argv[5]) if len(sys.argv) > 5 else 420.0
PORT = 4350
state = {'probe': None, 'result': None, 'log': []}
done = threading.Event()
probed = threading.Event()

PROBE_PAGE = b"""<!doctype html><meta charset=utf-8><script>
const c = document.createElement('canvas'); const gl = c.getContext('webgl2');
let r = 'none', v = '';
if (gl) { const i = gl.getExtension('WEBGL_debug_renderer_info');
  r = String(gl.getParameter(i ? i.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  v = String(gl.getParameter(i ? i.UNMASKED_VENDOR_WEBGL : gl.VENDOR)); }
fetch('/probe', {method: 'POST', body: JSON.stringify({renderer: r, vendor: v, ua: navigator.userAgent})});
</script>"""

TYPES = {'.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json', '.bin': 'application/octet-stream'}


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def send(self, code, body, ctype='text/plain'):
        self.send_response(code)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(body)))
        self.send_header('Cross-Origin-Opener-Policy', 'same-origin')
        self.send_header('Cross-Origin-Embedder-Policy', 'require-corp')
        self.send_header('Cross-Origin-Resource-Policy', 'same-origin')
        self.send_header('Cache-Control', 'no-store')
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = self.path.split('?')[0]
        if path == '/probe.html':
            return self.send(200, PROBE_PAGE, 'text/html')
        rel = 'index.html' if path == '/' else path.lstrip('/')
        for root in (SITE, PUBLIC):
            base = os.path.abspath(root)
            f = os.path.abspath(os.path.join(base, rel))
            if f.startswith(base + os.sep) and os.path.isfile(f):
                with open(f, 'rb') as fh:
                    return self.send(200, fh.read(), TYPES.get(os.path.splitext(f)[1], 'application/octet-stream'))
        self.send(404, b'not found')

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get('Content-Length', 0)))
        data = json.loads(body or b'{}')
        if self.path == '/probe':
            state['probe'] = data
            probed.set()
        elif self.path == '/log':
            line = data.get('line', '')
            state['log'].append(line)
            print('page:', line, flush=True)
        elif self.path in ('/partial', '/result'):
            state['result'] = data
            with open(os.path.join(OUT, 'gpu-result.json'), 'w') as fh:
                json.dump(data, fh)
            if self.path == '/result':
                done.set()
        self.send(200, b'ok')


BASE = ['--headless', '--no-sandbox', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update',
        '--disable-sync', '--no-first-run', '--ignore-gpu-blocklist', '--enable-gpu', '--user-data-dir=/tmp/ravine-chrome']
FLAG_SETS = [
    ('angle-vulkan', ['--use-gl=angle', '--use-angle=vulkan', '--enable-features=Vulkan,VulkanFromANGLE,DefaultANGLEVulkan', '--disable-vulkan-surface']),
    ('angle-egl', ['--use-gl=angle', '--use-angle=gl-egl']),
    ('egl', ['--use-gl=egl']),
    ('default', []),
    # Software (SwiftShader): refused unless RAVINE_GPU_ACCEPT_SOFTWARE is set; for dry runs.
    ('swiftshader', ['--use-angle=swiftshader', '--enable-unsafe-swiftshader']),
]


def launch(flags, url, logname, header=''):
    fh = open(os.path.join(OUT, logname), 'a')
    fh.write(header)
    fh.flush()
    env = dict(os.environ)
    # The libraries packed with Chromium are for Chromium alone (Python keeps the system's).
    if os.environ.get('RAVINE_CHROME_LIBS'):
        env['LD_LIBRARY_PATH'] = os.environ['RAVINE_CHROME_LIBS']
    return subprocess.Popen([CHROME, *BASE, *flags, url], stdout=fh, stderr=subprocess.STDOUT, env=env)


def main():
    os.makedirs(OUT, exist_ok=True)
    server = http.server.ThreadingHTTPServer(('127.0.0.1', PORT), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    chosen, probes = None, []
    only = os.environ.get('RAVINE_GPU_FLAGS')  # one flag set by name, e.g. 'default' (software) for a dry run
    for name, flags in FLAG_SETS:
        if only and name != only:
            continue
        probed.clear()
        state['probe'] = None
        p = launch(flags, f'http://127.0.0.1:{PORT}/probe.html', 'chrome-probes.log', f'=== {name}: {" ".join(flags)}\n')
        probed.wait(25)
        p.kill()
        p.wait()
        pr = state['probe'] or {'renderer': 'no answer'}
        probes.append({'flags': name, **pr})
        print(f'probe {name}: {pr.get("renderer")}', flush=True)
        r = str(pr.get('renderer', ''))
        software = 'SwiftShader' in r or 'llvmpipe' in r
        if r not in ('none', 'no answer') and (not software or os.environ.get('RAVINE_GPU_ACCEPT_SOFTWARE')):
            chosen = (name, flags)
            break
    with open(os.path.join(OUT, 'gpu-probes.json'), 'w') as fh:
        json.dump(probes, fh)
    if not chosen:
        print('no hardware WebGL renderer found; not running the benchmark', flush=True)
        return 1
    t0 = time.time()
    p = launch(chosen[1], f'http://127.0.0.1:{PORT}/?auto', 'chrome-bench.log')
    ok = done.wait(TIMEOUT)
    p.kill()
    p.wait()
    print(f'benchmark {"finished" if ok else "timed out"} after {time.time() - t0:.0f} s with flags {chosen[0]}', flush=True)
    with open(os.path.join(OUT, 'gpu-meta.json'), 'w') as fh:
        json.dump({'flags': chosen[0], 'chromeFlags': BASE + chosen[1], 'finished': ok, 'seconds': time.time() - t0, 'log': state['log']}, fh)
    return 0 if ok else 2


if __name__ == '__main__':
    sys.exit(main())
