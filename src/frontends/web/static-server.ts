// A small static file server for the built page (Node): `npm start -- serve` and the browser test
// use it. GET and HEAD only, files under the root only (no directory listings, no dot files, no
// path escaping the root, symlinks resolved and checked), explicit content types, no caching
// (a rebuilt page is picked up on reload). WebGPU needs a secure context: http://localhost and
// http://127.0.0.1 are secure; another host name or a LAN address is not.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { constants, realpathSync, statSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import { errorText, quote } from '../../core/util/text.ts';

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

/** The file a request path names under root, or undefined (outside the root, a dot file, not a file, the root gone). */
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
  try {
    // The root may be missing or removed while serving: every request then gets a 404.
    const realRoot = realpathSync(root);
    const real = realpathSync(resolve(realRoot, ...parts));
    if (real !== realRoot && !real.startsWith(realRoot + sep)) return undefined;
    return statSync(real).isFile() ? real : undefined;
  } catch {
    return undefined;
  }
}

/** A file opened for a response: its descriptor and size, from fstat of what was opened. */
async function openForResponse(file: string): Promise<{ handle: FileHandle; size: number } | undefined> {
  let handle: FileHandle | undefined;
  try {
    // Opened first, measured after: a file deleted or replaced after resolveStatic is either
    // served as it was when opened, or a 404 — never an uncaught ENOENT.
    // O_NOFOLLOW: a link put in the file's place after the check is not followed out of the root.
    handle = await open(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOFOLLOW ?? 0));
    const st = await handle.stat();
    if (!st.isFile()) throw new Error('not a regular file');
    return { handle, size: st.size };
  } catch {
    await handle?.close().catch(() => {});
    return undefined;
  }
}

/** Answers one request: GET and HEAD of files under root; anything that goes wrong is a 404 or 500, never a crash. */
async function respond(root: string, req: IncomingMessage, res: ServerResponse, done: (status: number) => void): Promise<void> {
  const method = req.method ?? 'GET';
  const path = req.url ?? '/';
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Cache-Control', 'no-cache');
  if (method !== 'GET' && method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
    return done(405);
  }
  const file = resolveStatic(root, path);
  const opened = file ? await openForResponse(file) : undefined;
  if (!opened) {
    // favicon.ico is asked for by every browser: answer without noise in the console.
    if (path === '/favicon.ico') {
      res.writeHead(204).end();
      return done(204);
    }
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found\n');
    return done(404);
  }
  const { handle, size } = opened;
  res.writeHead(200, { 'Content-Type': TYPES[extname(file!).toLowerCase()] ?? 'application/octet-stream', 'Content-Length': size });
  done(200);
  if (method === 'HEAD' || size === 0) {
    await handle.close().catch(() => {});
    return void res.end();
  }
  // Exactly the bytes announced, even if the file grows or shrinks meanwhile (a short file ends the connection).
  const stream = handle.createReadStream({ start: 0, end: size - 1, autoClose: true });
  let sent = 0;
  stream.on('data', (chunk: string | Buffer) => void (sent += chunk.length));
  stream.on('error', () => res.destroy());
  stream.on('end', () => sent < size && res.destroy());
  res.on('close', () => stream.destroy());
  stream.pipe(res);
}

/** Why the server could not listen, naming --host or --port. */
function listenError(e: NodeJS.ErrnoException, host: string, port: number): Error {
  const h = quote(host, 80);
  if (e.code === 'EADDRINUSE') return new Error(`port ${port} on ${h} is in use: choose another with --port (0 = any free port)`);
  if (e.code === 'EACCES') return new Error(`port ${port} on ${h} needs privileges this process lacks: choose a port above 1023 with --port`);
  if (e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND' || e.code === 'EAI_AGAIN') return new Error(`--host ${h} is not an address of this machine (${e.code}): use 127.0.0.1, ::1 or localhost`);
  return new Error(`cannot listen on ${h} port ${port}: ${errorText(e, 200)}`);
}

/** Serves the files under `root`. */
export function serveStatic(root: string, opts: ServeOptions = {}): Promise<StaticServer> {
  const host = opts.host ?? '127.0.0.1';
  const server = createServer((req, res) => {
    const done = (status: number) => {
      try {
        opts.onRequest?.(req.method ?? 'GET', req.url ?? '/', status);
      } catch {
        // a logging failure must not take the server down
      }
    };
    respond(root, req, res, done).catch(() => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end('internal error\n');
      else res.destroy();
      done(500);
    });
  });
  return new Promise((resolvePromise, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(listenError(e, host, opts.port ?? 0)));
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
