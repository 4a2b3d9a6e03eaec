// `serve`: the web page (src/frontends/web/) on localhost, served until Ctrl-C. The installed
// package ships the page built (dist/web); a clone builds it first when it is missing or older
// than its sources (npm run build:web does the same build).

import { relative, resolve } from 'node:path';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { UsageError, type OptionSpec } from '../args.ts';
import { checkOutputDir } from '../../../core/util/files.ts';
import { display, listOf } from '../../../core/util/text.ts';
import { defineCommand } from '../command.ts';
import { packageFile } from '../../../core/util/package-root.ts';

/** The built page's folder: the package's dist/web, as a path from here when it is below the working folder. */
function builtPageDir(): string {
  const abs = packageFile('dist/web');
  const rel = relative(process.cwd(), abs);
  return rel.startsWith('..') || rel === '' ? abs : rel;
}

const OPTIONS = {
  port: { type: 'number', default: 8080, integer: true, min: 0, max: 65_535, help: 'port (0: any free port)' },
  host: { type: 'string', default: '127.0.0.1', help: 'address to listen on; WebGPU needs a secure context: keep it on loopback (127.0.0.1, ::1) or put HTTPS in front' },
  dir: { type: 'string', default: builtPageDir(), help: 'folder of the built page' },
  build: { type: 'string', default: 'auto', choices: ['auto', 'always', 'never'], help: 'in a clone: build the page first when missing or stale, always, or never (the installed package ships it built)' },
  quiet: { type: 'boolean', default: false, help: 'do not log requests' },
  help: { type: 'boolean', default: false, help: 'show this help' },
} as const satisfies Record<string, OptionSpec>;

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/**
 * Refuses to build into a folder that holds anything but an earlier build of the page (a build
 * never overwrites another program's index.html): the folder must be missing, empty, or carry the
 * stamp a build leaves (.build-stamp.json).
 */
function checkBuildTarget(dir: string, shown: string): void {
  let entries: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new UsageError(`serve: --dir ${display(shown)} is a file, not a folder`);
    entries = readdirSync(dir);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    return checkOutputDir(dir, 'serve: --dir');
  }
  if (entries.length && !entries.includes('.build-stamp.json')) {
    throw new UsageError(`serve: --dir ${display(shown)} holds files that are not a build of the page (${listOf([...entries].sort(), { max: 5 })}); building there would replace them: give an empty or new folder, or serve it as it is with --build never`);
  }
}

export default defineCommand({
  summary: 'Serve the web page (train and run FPET live in the browser on WebGPU) on localhost, building it first if needed.',
  options: OPTIONS,
  async run(a) {
    const { buildWeb, pageSourcesPresent, webBuildIsStale } = await import('../../web/build.ts');
    const { serveStatic } = await import('../../web/static-server.ts');
    const dir = resolve(a.dir);
    const built = existsSync(resolve(dir, 'index.html'));
    if (!pageSourcesPresent() || a.build === 'never') {
      if (a.build === 'always') throw new UsageError('serve: --build always: the page\'s sources are not here (the installed package ships the built page; build it in a clone of the repository)');
      if (!built) throw new UsageError(`serve: --dir ${display(a.dir)}: no built page there (index.html is missing)${pageSourcesPresent() ? '; build it with --build auto' : ''}`);
      if (webBuildIsStale(dir) && pageSourcesPresent()) console.log(`note: ${display(relative(process.cwd(), dir))} is older than its sources (--build never)`);
    } else if (a.build === 'always' || webBuildIsStale(dir)) {
      checkBuildTarget(dir, a.dir);
      console.log(`building the page into ${display(relative(process.cwd(), dir) || '.')} ...`);
      const r = await buildWeb({ outDir: dir, log: (s) => console.log(`  ${s}`) });
      console.log(`built in ${r.seconds.toFixed(1)} s`);
    }
    const server = await serveStatic(dir, {
      port: a.port,
      host: a.host,
      onRequest: a.quiet ? undefined : (method, path, status) => {
        if (status !== 200 || path === '/' || path.endsWith('.html')) console.log(`${new Date().toLocaleTimeString()} ${display(method, 16)} ${display(path, 120)} ${status}`);
      },
    });
    const local = LOOPBACK.has(a.host) ? `http://localhost:${server.port}/` : server.url;
    console.log(`\nserving ${display(relative(process.cwd(), dir) || '.')} at ${local}${local !== server.url ? `  (also ${server.url})` : ''}`);
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
  },
});
