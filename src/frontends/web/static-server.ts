// A small static file server for the built page (Node): `npm start -- serve` and the browser test
// use it. GET and HEAD only, files under the root only (no directory listings, no dot files, no
// path escaping the root, symlinks resolved and checked), explicit content types, no caching
// (a rebuilt page is picked up on reload). WebGPU needs a secure context: http://localhost and
// http://127.0.0.1 are secure; another host name or a LAN address is not.

import { createServer, type Server } from 'node:http';
import { createReadStream, realpathSync, statSync } from 'node:fs';
import { extname, resolve, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.safetensors': 'application/octet-stream',
  '.bin': 'application/octet-stream',
};

export interface StaticServer {
  readonly server: Server;
  /** http://<host>:<port>/ as it was bound (127.0.0.1 unless told otherwise). */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export interface ServeOptions {
  /** 0 (default): any free port. */
  readonly port?: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Called once per request with method, path and status (for logs). */
  readonly onRequest?: (method: string, path: string, status: number) => void;
}

/** The file a request path names under root, or undefined (outside the root, a dot file, not a file). */
export function resolveStatic(root: string, urlPath: string): string | undefined {
  let path: string;
  try {
    path = decodeURIComponent(urlPath.split('?')[0]!.split('#')[0]!);
  } catch {
    return undefined;
  }
  if (path.includes('\0') || path.includes('\\')) return undefined;
  if (path.endsWith('/')) path += 'index.html';
  const parts = path.split('/').filter((p) => p.length > 0);
  if (parts.some((p) => p === '..' || p.startsWith('.'))) return undefined;
  const realRoot = realpathSync(root);
  const file = resolve(realRoot, ...parts);
  try {
    const real = realpathSync(file);
    if (real !== realRoot && !real.startsWith(realRoot + sep)) return undefined;
    return statSync(real).isFile() ? real : undefined;
  } catch {
    return undefined;
  }
}

/** Serves the files under `root`. */
export function serveStatic(root: string, opts: ServeOptions = {}): Promise<StaticServer> {
  const host = opts.host ?? '127.0.0.1';
  const server = createServer((req, res) => {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const done = (status: number) => opts.onRequest?.(method, path, status);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Cache-Control', 'no-cache');
    if (method !== 'GET' && method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
      return done(405);
    }
    const file = resolveStatic(root, path);
    if (!file) {
      // favicon.ico is asked for by every browser: answer without noise in the console.
      if (path === '/favicon.ico') {
        res.writeHead(204).end();
        return done(204);
      }
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found\n');
      return done(404);
    }
    const size = statSync(file).size;
    res.writeHead(200, { 'Content-Type': TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream', 'Content-Length': size });
    done(200);
    if (method === 'HEAD') return res.end();
    createReadStream(file).on('error', () => res.destroy()).pipe(res);
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      reject(e.code === 'EADDRINUSE' ? new Error(`port ${opts.port} on ${host} is in use: choose another with --port (0 = any free port)`) : e);
    });
    server.listen(opts.port ?? 0, host, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') return reject(new Error('the server has no port'));
      const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
      resolvePromise({
        server,
        port: address.port,
        url: `http://${shown}:${address.port}/`,
        close: () => new Promise<void>((r) => {
          server.closeAllConnections();
          server.close(() => r());
        }),
      });
    });
  });
}
