// A small static file server for the built page (Node): `npm start -- serve` and the browser test
// use it. GET and HEAD only, files under the root only (no directory listings, no dot files, no
// path escaping the root, symlinks resolved and checked), explicit content types. Like a real
// static server it compresses text (gzip, node:zlib, when the client accepts it), answers
// revalidation with 304 (ETag and Last-Modified; Cache-Control no-cache, so a rebuilt page is
// picked up on reload without downloading what did not change) and redirects a folder named
// without its trailing slash (/fpet -> /fpet/), so the page's relative asset paths resolve.
// WebGPU needs a secure context: http://localhost and http://127.0.0.1 are secure; another host
// name or a LAN address is not.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { constants, realpathSync, statSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
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

/** Text worth compressing; pictures, weights and the (already gzip-compressed) data packs are sent as they are. */
const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.json', '.map', '.svg', '.txt']);
/** Smaller files gain nothing from gzip; larger ones are streamed as they are rather than held in memory. */
const GZIP_MIN_BYTES = 256, GZIP_MAX_BYTES = 16 * 2 ** 20;
/** Compressed bodies kept between requests (keyed by file and ETag), at most this many bytes in all. */
const GZIP_CACHE_BYTES = 32 * 2 ** 20;

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

/** What a request path names under the root: a file, a folder to redirect to (with its trailing slash), or nothing. */
export type StaticTarget = { readonly file: string } | { readonly redirect: string } | undefined;

/** The file (or folder missing its trailing slash) a request path names under root; undefined for anything else. */
export function lookupStatic(root: string, urlPath: string): StaticTarget {
  const [pathPart = '', ...rest] = urlPath.split('#')[0]!.split('?');
  const query = rest.length ? `?${rest.join('?')}` : '';
  let path: string;
  try {
    path = decodeURIComponent(pathPart);
  } catch {
    return undefined;
  }
  if (path.includes('\0') || path.includes('\\')) return undefined;
  const folder = path.endsWith('/');
  const parts = path.split('/').filter((p) => p.length > 0);
  if (parts.some((p) => p === '..' || p.startsWith('.'))) return undefined;
  try {
    // The root may be missing or removed while serving: every request then gets a 404.
    const realRoot = realpathSync(root);
    const real = realpathSync(resolve(realRoot, ...parts, ...(folder ? ['index.html'] : [])));
    if (real !== realRoot && !real.startsWith(realRoot + sep)) return undefined;
    const st = statSync(real);
    if (st.isFile()) return { file: real };
    // Rebuilt from the checked parts (never the raw path: "//host" would redirect off this server).
    if (st.isDirectory() && !folder) return { redirect: `/${parts.map(encodeURIComponent).join('/')}/${query}` };
    return undefined;
  } catch {
    return undefined;
  }
}

/** The file a request path names under root, or undefined (outside the root, a dot file, a folder, not a file, the root gone). */
export function resolveStatic(root: string, urlPath: string): string | undefined {
  const t = lookupStatic(root, urlPath);
  return t && 'file' in t ? t.file : undefined;
}

/** A file opened for a response: its descriptor, size and modification time, from fstat of what was opened. */
async function openForResponse(file: string): Promise<{ handle: FileHandle; size: number; mtimeMs: number } | undefined> {
  let handle: FileHandle | undefined;
  try {
    // Opened first, measured after: a file deleted or replaced after lookupStatic is either
    // served as it was when opened, or a 404 — never an uncaught ENOENT.
    // O_NOFOLLOW: a link put in the file's place after the check is not followed out of the root.
    handle = await open(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOFOLLOW ?? 0));
    const st = await handle.stat();
    if (!st.isFile()) throw new Error('not a regular file');
    return { handle, size: st.size, mtimeMs: st.mtimeMs };
  } catch {
    await handle?.close().catch(() => {});
    return undefined;
  }
}

/** Whether the client accepts gzip (an explicit q=0 refuses it). */
export function acceptsGzip(header: string | string[] | undefined): boolean {
  const value = Array.isArray(header) ? header.join(',') : header ?? '';
  for (const item of value.split(',')) {
    const [coding = '', ...params] = item.trim().toLowerCase().split(';').map((s) => s.trim());
    if (coding !== 'gzip' && coding !== 'x-gzip' && coding !== '*') continue;
    const q = params.find((p) => p.startsWith('q='));
    if (!q || Number(q.slice(2)) > 0) return true;
  }
  return false;
}

/** Whether the client's validators say its copy is current (If-None-Match wins over If-Modified-Since, as RFC 9110). */
export function notModified(req: IncomingMessage, etag: string, mtimeMs: number): boolean {
  const inm = req.headers['if-none-match'];
  if (inm !== undefined) {
    const tags = inm.split(',').map((t) => t.trim().replace(/^W\//, ''));
    return tags.includes('*') || tags.includes(etag);
  }
  const ims = req.headers['if-modified-since'];
  if (ims === undefined) return false;
  const since = Date.parse(ims);
  // HTTP dates have whole seconds.
  return Number.isFinite(since) && Math.floor(mtimeMs / 1000) * 1000 <= since;
}

const gzipAsync = promisify(gzip);
const gzipCache = new Map<string, Buffer>();
let gzipCacheBytes = 0;

/** Exactly `size` bytes of an opened file, or undefined when it shrank meanwhile. */
async function readExactly(handle: FileHandle, size: number): Promise<Buffer | undefined> {
  const buf = Buffer.alloc(size);
  let at = 0;
  while (at < size) {
    const { bytesRead } = await handle.read(buf, at, size - at, at);
    if (bytesRead === 0) return undefined;
    at += bytesRead;
  }
  return buf;
}

/** The gzip body of an opened file, from the cache when this version (file and ETag) was compressed before. */
async function gzipBody(file: string, etag: string, handle: FileHandle, size: number): Promise<Buffer | undefined> {
  const key = `${file}\0${etag}`;
  const cached = gzipCache.get(key);
  if (cached) return cached;
  const raw = await readExactly(handle, size);
  if (!raw) return undefined;
  const body = await gzipAsync(raw, { level: 6 });
  gzipCache.set(key, body);
  gzipCacheBytes += body.length;
  // Oldest first out (a Map iterates in insertion order).
  for (const [k, v] of gzipCache) {
    if (gzipCacheBytes <= GZIP_CACHE_BYTES) break;
    gzipCache.delete(k);
    gzipCacheBytes -= v.length;
  }
  return body;
}

/** Streams exactly the `size` bytes announced, even if the file grows or shrinks meanwhile (a short file ends the connection). */
function streamFile(handle: FileHandle, size: number, res: ServerResponse): void {
  const stream = handle.createReadStream({ start: 0, end: size - 1, autoClose: true });
  let sent = 0;
  stream.on('data', (chunk: string | Buffer) => void (sent += chunk.length));
  stream.on('error', () => res.destroy());
  stream.on('end', () => sent < size && res.destroy());
  res.on('close', () => stream.destroy());
  stream.pipe(res);
}

/** Answers one request: GET and HEAD of files under root; anything that goes wrong is a 404 or 500, never a crash. */
async function respond(root: string, req: IncomingMessage, res: ServerResponse, done: (status: number) => void): Promise<void> {
  const method = req.method ?? 'GET';
  const path = req.url ?? '/';
  res.setHeader('X-Content-Type-Options', 'nosniff');
  if (method !== 'GET' && method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }).end('method not allowed\n');
    return done(405);
  }
  const target = lookupStatic(root, path);
  if (target && 'redirect' in target) {
    res.writeHead(301, { Location: target.redirect, 'Content-Type': 'text/plain; charset=utf-8' }).end(method === 'HEAD' ? undefined : `moved to ${target.redirect}\n`);
    return done(301);
  }
  const opened = target ? await openForResponse(target.file) : undefined;
  if (!opened) {
    // favicon.ico is asked for by every browser: answer without noise in the console.
    if (path === '/favicon.ico') {
      res.writeHead(204).end();
      return done(204);
    }
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found\n');
    return done(404);
  }
  const { handle, size, mtimeMs } = opened;
  const file = target!.file;
  const ext = extname(file).toLowerCase();
  const compressible = COMPRESSIBLE.has(ext) && size >= GZIP_MIN_BYTES && size <= GZIP_MAX_BYTES;
  const gz = compressible && acceptsGzip(req.headers['accept-encoding']);
  // One ETag per representation: the gzip body is another entity than the file's bytes.
  const etag = `"${size.toString(16)}-${Math.floor(mtimeMs).toString(16)}${gz ? '-gz' : ''}"`;
  const headers: Record<string, string | number> = {
    'Content-Type': TYPES[ext] ?? 'application/octet-stream',
    'Cache-Control': 'no-cache',
    ETag: etag,
    'Last-Modified': new Date(mtimeMs).toUTCString(),
    ...(compressible ? { Vary: 'Accept-Encoding' } : {}),
  };
  if (notModified(req, etag, mtimeMs)) {
    await handle.close().catch(() => {});
    delete headers['Content-Type'];
    res.writeHead(304, headers).end();
    return done(304);
  }
  let body: Buffer | undefined;
  if (gz || method === 'HEAD' || size === 0) {
    try {
      body = gz ? await gzipBody(file, etag, handle, size) : undefined;
    } finally {
      await handle.close().catch(() => {});
    }
    if (gz && !body) throw new Error(`${file} shrank while it was read`);
    res.writeHead(200, { ...headers, ...(body ? { 'Content-Encoding': 'gzip' } : {}), 'Content-Length': body ? body.length : size });
    done(200);
    return void res.end(method === 'HEAD' ? undefined : body);
  }
  res.writeHead(200, { ...headers, 'Content-Length': size });
  done(200);
  streamFile(handle, size, res);
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
