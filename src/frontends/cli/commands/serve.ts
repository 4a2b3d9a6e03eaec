// `serve`: the web page (src/frontends/web/) on localhost — built first when missing or older than its
// sources (npm run build:web does the same build), then served until Ctrl-C.

import { relative } from 'node:path';
import { helpText, parseArgs, type OptionSpec } from '../args.ts';

export const summary = 'Serve the web page (train and run FPET live in the browser on WebGPU) on localhost, building it first if needed.';

const OPTIONS = {
  port: { type: 'number', default: 8080, integer: true, min: 0, max: 65_535, help: 'port (0: any free port)' },
  host: { type: 'string', default: '127.0.0.1', help: 'address to listen on; WebGPU needs a secure context: keep it on loopback (127.0.0.1, ::1) or put HTTPS in front' },
  dir: { type: 'string', default: 'dist/web', help: 'folder of the built page' },
  build: { type: 'string', default: 'auto', choices: ['auto', 'always', 'never'], help: 'build the page first: when missing or stale, always, or never' },
  quiet: { type: 'boolean', default: false, help: 'do not log requests' },
  help: { type: 'boolean', default: false, help: 'show this help' },
} as const satisfies Record<string, OptionSpec>;

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export async function run(argv: string[]): Promise<number> {
  const a = parseArgs('serve', argv, OPTIONS);
  if (a.help) {
    console.log(helpText('serve', summary, OPTIONS));
    return 0;
  }
  const { buildWeb, webBuildIsStale } = await import('../../web/build.ts');
  const { serveStatic } = await import('../../web/static-server.ts');
  const { resolve } = await import('node:path');
  const dir = resolve(a.dir);
  if (a.build === 'always' || (a.build === 'auto' && webBuildIsStale(dir))) {
    console.log(`building the page into ${relative(process.cwd(), dir) || '.'} ...`);
    const r = await buildWeb({ outDir: dir, log: (s) => console.log(`  ${s}`) });
    console.log(`built in ${r.seconds.toFixed(1)} s`);
  } else if (webBuildIsStale(dir) && a.build === 'never') {
    console.log(`note: ${relative(process.cwd(), dir)} is missing or older than its sources (--build never)`);
  }
  const server = await serveStatic(dir, {
    port: a.port,
    host: a.host,
    onRequest: a.quiet ? undefined : (method, path, status) => {
      if (status !== 200 || path === '/' || path.endsWith('.html')) console.log(`${new Date().toLocaleTimeString()} ${method} ${path.slice(0, 120)} ${status}`);
    },
  });
  const local = LOOPBACK.has(a.host) ? `http://localhost:${server.port}/` : server.url;
  console.log(`\nserving ${relative(process.cwd(), dir) || '.'} at ${local}${local !== server.url ? `  (also ${server.url})` : ''}`);
  if (!LOOPBACK.has(a.host)) {
    console.log('warning: over plain HTTP, browsers offer WebGPU only to localhost pages: open it through a tunnel to localhost, or put HTTPS in front');
  }
  console.log('open it in a browser with WebGPU (Chrome / Edge 113+, Safari 26, Firefox 141+ on Windows); Ctrl-C stops the server');
  await new Promise<void>((done) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      done();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await server.close();
  console.log('\nstopped');
  return 0;
}
