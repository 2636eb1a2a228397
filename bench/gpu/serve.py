#!/usr/bin/env python3
"""Runs Ravine's benchmark page on a machine that has a GPU but no Node (bench/gpu.ts prepares
what it needs). Serves the built page with the cross-origin isolation headers the lab sends,
starts Chromium's headless shell with each set of GPU flags in turn until a WebGL context
reports a hardware renderer, then lets the page run gpu-plan.json and writes what it posts.

With RAVINE_GPU_PAGE=lab, SITE_DIR is the built lab instead: its index.html gets the driver
bench/gpu/labAuto.ts (bundled as lab-auto.js), the lab runs once per grid in LAB_GRIDS, and after
each run a screenshot of the page is taken through the DevTools protocol (--remote-debugging-pipe).

usage: serve.py SITE_DIR PUBLIC_DIR CHROMIUM OUT_DIR [TIMEOUT_S]
"""
import base64
import fcntl
import http.server
import json
import os
import select
import subprocess
import sys
import threading
import time
import urllib.parse

SITE, PUBLIC, CHROME, OUT = sys.argv[1:5]
TIMEOUT = float(sys.argv[5]) if len(sys.argv) > 5 else 420.0
PORT = 4350
LAB = os.environ.get('RAVINE_GPU_PAGE') == 'lab'
# The lab's default grid and the 101² (bench/run.ts measures the same two on the CPU).
LAB_GRIDS = (41, 101)
LAB_SCRIPT = b'<script type="module" src="/lab-auto.js"></script>'
state = {'probe': None, 'result': None, 'log': [], 'lab': None}
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

TYPES = {'.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json', '.bin': 'application/octet-stream',
         '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon', '.woff2': 'font/woff2', '.webmanifest': 'application/manifest+json'}


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
                    body = fh.read()
                if LAB and rel == 'index.html':
                    body = body.replace(b'</head>', LAB_SCRIPT + b'</head>', 1)
                return self.send(200, body, TYPES.get(os.path.splitext(f)[1], 'application/octet-stream'))
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
        elif self.path == '/lab-result':
            state['lab'] = data
            done.set()
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


def launch(flags, url, logname, header='', **popen):
    fh = open(os.path.join(OUT, logname), 'a')
    fh.write(header)
    fh.flush()
    env = dict(os.environ)
    # The libraries packed with Chromium are for Chromium alone (Python keeps the system's).
    if os.environ.get('RAVINE_CHROME_LIBS'):
        env['LD_LIBRARY_PATH'] = os.environ['RAVINE_CHROME_LIBS']
    return subprocess.Popen([CHROME, *BASE, *flags, url], stdout=fh, stderr=subprocess.STDOUT, env=env, **popen)


class Cdp:
    """The DevTools protocol over --remote-debugging-pipe: JSON messages ended by NUL, Chromium
    reading commands on its fd 3 and writing answers on its fd 4."""

    def __init__(self, write_fd, read_fd):
        self.w, self.r, self.buf, self.next_id = write_fd, read_fd, b'', 0

    def close(self):
        os.close(self.w)
        os.close(self.r)

    def send(self, method, params=None, session=None, timeout=60):
        self.next_id += 1
        msg = {'id': self.next_id, 'method': method, 'params': params or {}}
        if session:
            msg['sessionId'] = session
        os.write(self.w, json.dumps(msg).encode() + b'\0')
        end = time.time() + timeout
        while True:
            while b'\0' in self.buf:
                raw, self.buf = self.buf.split(b'\0', 1)
                m = json.loads(raw)
                if m.get('id') == self.next_id:
                    if 'error' in m:
                        raise RuntimeError(f'{method}: {m["error"]}')
                    return m.get('result', {})
            if time.time() > end:
                raise TimeoutError(method)
            if select.select([self.r], [], [], 1)[0]:
                chunk = os.read(self.r, 1 << 20)
                if not chunk:
                    raise RuntimeError(f'{method}: the DevTools pipe closed')
                self.buf += chunk


def launch_with_pipe(flags, url, logname):
    """Chromium with the DevTools pipe on its fds 3 (commands in) and 4 (answers out)."""
    cmd_r, cmd_w = os.pipe()
    ans_r, ans_w = os.pipe()

    def child():
        # Out of the way first, so that neither dup2 overwrites the other's source.
        a = fcntl.fcntl(cmd_r, fcntl.F_DUPFD, 20)
        b = fcntl.fcntl(ans_w, fcntl.F_DUPFD, 20)
        os.dup2(a, 3)
        os.dup2(b, 4)

    p = launch([*flags, '--window-size=1280,800', '--remote-debugging-pipe'], url, logname, preexec_fn=child, close_fds=False)
    os.close(cmd_r)
    os.close(ans_w)
    return p, Cdp(cmd_w, ans_r)


def screenshot(cdp, path):
    targets = cdp.send('Target.getTargets')['targetInfos']
    page = next(t for t in targets if t['type'] == 'page' and t['url'].startswith(f'http://127.0.0.1:{PORT}/'))
    session = cdp.send('Target.attachToTarget', {'targetId': page['targetId'], 'flatten': True})['sessionId']
    data = cdp.send('Page.captureScreenshot', {'format': 'png'}, session=session)['data']
    with open(path, 'wb') as fh:
        fh.write(base64.b64decode(data))


def run_lab(chosen):
    """The lab once per grid, each in a fresh browser; figures to gpu-lab.json, screenshots beside it."""
    runs = []
    for grid in LAB_GRIDS:
        done.clear()
        state['lab'] = None
        t0 = time.time()
        url = f'http://127.0.0.1:{PORT}/?auto#' + urllib.parse.quote(json.dumps({'resolution': grid}, separators=(',', ':')))
        p, cdp = launch_with_pipe(chosen[1], url, 'chrome-bench.log')
        ok = done.wait(TIMEOUT)
        shot = None
        if ok:
            try:
                shot = f'gpu-lab-{grid}.png'
                screenshot(cdp, os.path.join(OUT, shot))
            except Exception as e:  # a missing screenshot must not lose the figures
                print(f'screenshot failed: {e}', flush=True)
                shot = None
        p.kill()
        p.wait()
        cdp.close()
        print(f'lab {grid}²: {"finished" if ok else "timed out"} after {time.time() - t0:.0f} s', flush=True)
        runs.append({'grid': grid, 'finished': ok, 'seconds': time.time() - t0, 'result': state['lab'], 'screenshot': shot})
    with open(os.path.join(OUT, 'gpu-lab.json'), 'w') as fh:
        json.dump({'flags': chosen[0], 'chromeFlags': BASE + chosen[1] + ['--window-size=1280,800'], 'runs': runs, 'log': state['log']}, fh)
    return 0 if all(r['finished'] and r['result'] and not r['result'].get('error') for r in runs) else 2


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
    if LAB:
        return run_lab(chosen)
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
