// The web page's universal parts, without a browser or a GPU: its adapters files against the CLI's
// writer and loader (byte-compatible both ways), the backbone decoder against loadBackbone, data
// packs, the round-robin baton that lets two training loops take turns, and the static server's
// path checks, HTTP (gzip, ETag / Last-Modified and 304, the trailing-slash redirect) and
// robustness (its folder removed while serving, files deleted between the check and the read).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MERGE, DEFAULT_PET, VIT_PRESETS, buildModel, initialWeights, makeSplits, modelParamShapes, mulberry32, type Dataset, type ModelSpec } from '../../src/index.ts';
import { FORMAT, loadBackbone, saveWeights } from '../../src/fpet/train/checkpoint.ts';
import { loadTrainedModel } from '../../src/fpet/train/trained-model.ts';
import { toReferenceNames } from '../../src/fpet/export/timm.ts';
import { encodeSafetensors } from '../../src/core/io/safetensors.ts';
import { SHIPPED_BACKBONE, decodeAdapters, decodeBackbone, encodeAdapters } from '../../src/fpet/train/model-files.ts';
import { decodeDataPack, encodeDataPack, firstOf, gzip } from '../../src/frontends/web/data-pack.ts';
import { Baton } from '../../src/frontends/web/baton.ts';
import { ROOT } from '../../src/frontends/web/build.ts';
import { acceptsGzip, lookupStatic, resolveStatic, serveStatic } from '../../src/frontends/web/static-server.ts';
import { request, type IncomingHttpHeaders } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { spawn } from 'node:child_process';

const BACKBONE = join(ROOT, 'models/vit-mnist-fashion.safetensors');
const fpetSpec: ModelSpec = { vit: VIT_PRESETS['vit-mnist'], batch: 8, pet: DEFAULT_PET.adaptformer, merge: { ...DEFAULT_MERGE, blocks: [3], ratio: 0.5 } };

function trainedTensors(spec: ModelSpec, seed: number): Map<string, Float32Array> {
  const w = initialWeights(spec, seed);
  const rand = mulberry32(seed + 1);
  return new Map(buildModel(spec).trainable.map((n) => [n, w.get(n)!.map((x) => x + 0.1 * (rand() - 0.5))]));
}


test('web: the backbone decoder gives what loadBackbone gives', async () => {
  const vit = VIT_PRESETS['vit-mnist'];
  const ours = decodeBackbone(new Uint8Array(readFileSync(BACKBONE)), vit, 'backbone');
  const cli = (await loadBackbone(BACKBONE, vit)).weights;
  // loadBackbone also passes the file's head through (initialWeights replaces it for the new task); ours drops it.
  for (const k of ['head.weight', 'head.bias']) cli.delete(k);
  assert.deepEqual([...ours.keys()].sort(), [...cli.keys()].sort());
  for (const [k, v] of cli) assert.deepEqual(ours.get(k), v, k);
});

test('web: adapters downloaded from the page load with the CLI (eval --adapters), and CLI files load in the page', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'web-adapters-'));
  try {
    const backbone = (await loadBackbone(BACKBONE, fpetSpec.vit)).weights;
    // page -> CLI
    const trained = trainedTensors(fpetSpec, 3);
    const file = join(dir, 'page.safetensors');
    writeFileSync(file, encodeAdapters({ ...fpetSpec, training: { dropout: 0.1, dropPath: 0.1 } }, trained, { seed: 0, step: 42, backbone: SHIPPED_BACKBONE }));
    const cli = await loadTrainedModel(file, BACKBONE, 100);
    assert.deepEqual(cli.spec, { ...fpetSpec, batch: 100, training: undefined });
    for (const [k, v] of trained) assert.deepEqual(cli.weights.get(k), v, k);
    // CLI -> page: the writer train uses, with the metadata train writes
    const cliFile = join(dir, 'cli.safetensors');
    await saveWeights(cliFile, trained, modelParamShapes(fpetSpec), { kind: 'adapters', spec: JSON.stringify(fpetSpec), seed: '0', backbone: SHIPPED_BACKBONE, step: '42' });
    const page = decodeAdapters(new Uint8Array(readFileSync(cliFile)), backbone, 1, 'cli.safetensors');
    assert.equal(page.step, 42);
    assert.equal(page.spec.batch, 1);
    assert.equal(page.referenceNaming, false);
    for (const [k, v] of trained) assert.deepEqual(page.weights.get(k), v, k);
    for (const [k, v] of backbone) if (!k.startsWith('head.')) assert.deepEqual(page.weights.get(k), v, k);
    assert.deepEqual(page.weights, (await loadTrainedModel(cliFile, BACKBONE, 1)).weights);
    // reference names (timm + official FPET code) load too
    const shapes = modelParamShapes(fpetSpec);
    const refEntries = new Map<string, { dtype: 'F32'; shape: number[]; data: Float32Array }>();
    for (const [n, v] of trained) refEntries.set([...toReferenceNames(new Map([[n, v]])).keys()][0]!, { dtype: 'F32', shape: shapes.get(n)!, data: v });
    assert.ok([...refEntries.keys()].some((k) => k.includes('adapter_down')), 'reference names differ from ours');
    const refBytes = encodeSafetensors(refEntries, { spec: JSON.stringify(fpetSpec), seed: '0', backbone: SHIPPED_BACKBONE });
    const ref = decodeAdapters(refBytes, backbone, 1, 'ref.safetensors');
    assert.equal(ref.referenceNaming, true);
    for (const [k, v] of trained) assert.deepEqual(ref.weights.get(k), v, k);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('web: bad adapters files are refused with the reason', async () => {
  const backbone = (await loadBackbone(BACKBONE, fpetSpec.vit)).weights;
  const trained = trainedTensors(fpetSpec, 4);
  const bytes = (spec: ModelSpec, tensors = trained) => encodeSafetensors(
    new Map([...tensors].map(([k, v]) => [k, { dtype: 'F32' as const, shape: modelParamShapes(spec.batch > 0 && spec.merge?.blocks[0] !== 9 ? spec : fpetSpec).get(k)!, data: v }])),
    { format: FORMAT, kind: 'adapters', spec: JSON.stringify(spec), seed: '0', backbone: SHIPPED_BACKBONE },
  );
  assert.throws(() => decodeAdapters(bytes({ ...fpetSpec, batch: 0 }), backbone, 1, 'f'), /batch/);
  assert.throws(() => decodeAdapters(bytes({ ...fpetSpec, merge: { ...fpetSpec.merge!, blocks: [9] } }), backbone, 1, 'f'), /blocks/);
  const missing = new Map(trained);
  missing.delete('head.bias');
  assert.throws(() => decodeAdapters(bytes(fpetSpec, missing), backbone, 1, 'f'), /missing tensor "head\.bias"/);
  const nan = new Map(trained);
  nan.set('head.bias', new Float32Array(10).fill(NaN));
  assert.throws(() => decodeAdapters(bytes(fpetSpec, nan), backbone, 1, 'f'), /non-finite/);
  assert.throws(() => decodeAdapters(encodeSafetensors(new Map(), { format: FORMAT }), backbone, 1, 'f'), /no model spec/);
  const wide = { ...fpetSpec, vit: { ...fpetSpec.vit, dim: 128, heads: 4 } };
  assert.throws(() => decodeAdapters(bytes(wide, trainedTensors(wide, 1)), backbone, 1, 'f'), /does not fit the page's backbone/);
});

test('web: data packs round-trip (gzip-compressed), with every prefix class-balanced as built', async () => {
  const n = 60;
  const rand = mulberry32(5);
  const ds: Dataset = {
    name: 'toy', images: Float32Array.from({ length: n * 16 }, () => Math.round(rand() * 255) / 255), labels: Int32Array.from({ length: n }, (_, i) => i % 3),
    classes: ['a', 'b', 'c'], count: n, imageSize: 4, channels: 1,
  };
  const { train, test } = makeSplits(ds, { trainSize: 30, testSize: 12, seed: 0 });
  const raw = encodeDataPack(ds, train.indices, test.indices, 'toy split');
  const pack = await decodeDataPack(await gzip(raw), 'toy.bin');
  assert.equal(pack.source, 'toy split');
  assert.deepEqual(pack.dataset.classes, ['a', 'b', 'c']);
  assert.equal(pack.train.indices.length, 30);
  assert.equal(pack.test.indices.length, 12);
  const per = 16;
  train.indices.forEach((src, k) => {
    assert.deepEqual(pack.dataset.images.subarray(k * per, (k + 1) * per), ds.images.subarray(src * per, (src + 1) * per));
    assert.equal(pack.dataset.labels[k], ds.labels[src]);
  });
  assert.equal(firstOf(pack.test, 5).indices.length, 5);
  assert.deepEqual(await decodeDataPack(raw, 'plain'), pack, 'a host that already removed the gzip encoding');
  await assert.rejects(decodeDataPack(encodeSafetensors(new Map(), { format: 'other' }), 'x'), /not a data pack/);
});

test('web: the baton lets runners take turns, pauses at a boundary and survives one leaving', async () => {
  const baton = new Baton();
  const order: string[] = [];
  const loop = async (id: string, steps: number) => {
    for (let i = 0; i < steps; i++) {
      order.push(`${id}${i}`);
      await new Promise((r) => setTimeout(r, 1));
      await baton.pass(id);
    }
    baton.leave(id);
  };
  const ends: Promise<void>[] = [];
  baton.join('a', () => ends.push(loop('a', 3)));
  baton.join('b', () => ends.push(loop('b', 5)));
  for (let i = 0; i < 50 && ends.length < 2; i++) await new Promise((r) => setTimeout(r, 2));
  await Promise.all(ends);
  assert.deepEqual(order, ['a0', 'b0', 'a1', 'b1', 'a2', 'b2', 'b3', 'b4']);

  const paused = new Baton();
  const seen: number[] = [];
  let stop = false;
  const done = new Promise<void>((resolve) => paused.join('x', async () => {
    for (let i = 0; !stop; i++) {
      seen.push(i);
      await new Promise((r) => setTimeout(r, 1));
      await paused.pass('x');
    }
    paused.leave('x');
    resolve();
  }));
  await new Promise((r) => setTimeout(r, 5));
  paused.pause();
  await new Promise((r) => setTimeout(r, 5));
  const atPause = seen.length;
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(seen.length, atPause, 'no step while paused');
  stop = true;
  paused.release('x');
  await done;
});

test('web: the static server serves files under its root only', () => {
  const root = mkdtempSync(join(tmpdir(), 'web-root-'));
  const outside = mkdtempSync(join(tmpdir(), 'web-outside-'));
  try {
    mkdirSync(join(root, 'assets'));
    writeFileSync(join(root, 'index.html'), 'x');
    writeFileSync(join(root, 'assets', 'a.bin'), 'x');
    writeFileSync(join(root, '.secret'), 'x');
    writeFileSync(join(outside, 'b.txt'), 'x');
    symlinkSync(join(outside, 'b.txt'), join(root, 'link.txt'));
    assert.equal(resolveStatic(root, '/'), join(root, 'index.html'));
    assert.equal(resolveStatic(root, '/assets/a.bin?x=1'), join(root, 'assets', 'a.bin'));
    for (const bad of ['/../etc/passwd', '/assets/../../x', '/%2e%2e/x', '/.secret', '/link.txt', '/assets', '/nope', '/%E0%A4%A', '/a\\b', '/a%00b']) {
      assert.equal(resolveStatic(root, bad), undefined, bad);
    }
    // A folder named without its trailing slash is a redirect, rebuilt from the checked parts.
    assert.deepEqual(lookupStatic(root, '/assets'), { redirect: '/assets/' });
    assert.deepEqual(lookupStatic(root, '//assets?x=1'), { redirect: '/assets/?x=1' });
    assert.equal(lookupStatic(root, '/assets/'), undefined, 'a folder without index.html');
    assert.equal(lookupStatic(root, '/.git'), undefined);
  } finally {
    rmSync(root, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  }
});

/** GET (or another method) `path` from a server: status, headers, body and the announced length (a dropped connection is status 0). */
function get(url: string, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; body: Buffer; length: number | undefined; headers: IncomingHttpHeaders }> {
  return new Promise((resolve) => {
    const u = new URL(url);
    // The path is sent as it is (new URL would read "//x" as another host).
    const req = request({ hostname: u.hostname, port: u.port, path, agent: false, headers, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), length: res.headers['content-length'] === undefined ? undefined : Number(res.headers['content-length']), headers: res.headers }));
      res.on('error', () => resolve({ status: 0, body: Buffer.alloc(0), length: undefined, headers: {} }));
    });
    req.on('error', () => resolve({ status: 0, body: Buffer.alloc(0), length: undefined, headers: {} }));
    req.end();
  });
}

test('web: the static server compresses text, answers revalidation with 304 and redirects a folder to its trailing slash', { timeout: 60_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'web-http-'));
  const js = `${'const answer = 42; // the page\n'.repeat(400)}`;
  mkdirSync(join(root, 'fpet'));
  writeFileSync(join(root, 'fpet', 'index.html'), '<!doctype html><title>page</title>');
  writeFileSync(join(root, 'fpet', 'app.js'), js);
  writeFileSync(join(root, 'fpet', 'w.bin'), Buffer.alloc(4096, 3));
  const server = await serveStatic(root);
  try {
    // gzip when accepted, the file's bytes otherwise; one ETag per representation.
    const gz = await get(server.url, '/fpet/app.js', { 'Accept-Encoding': 'br, gzip;q=0.8' });
    assert.equal(gz.status, 200);
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.equal(gz.headers.vary, 'Accept-Encoding');
    assert.equal(gunzipSync(gz.body).toString(), js);
    assert.ok(gz.body.length < js.length / 10, `compressed to ${gz.body.length} of ${js.length} bytes`);
    const plain = await get(server.url, '/fpet/app.js', { 'Accept-Encoding': 'gzip;q=0' });
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(plain.body.toString(), js);
    assert.notEqual(plain.headers.etag, gz.headers.etag);
    const bin = await get(server.url, '/fpet/w.bin', { 'Accept-Encoding': 'gzip' });
    assert.equal(bin.headers['content-encoding'], undefined, 'binary files are sent as they are');
    assert.equal(bin.body.length, 4096);
    // Revalidation: 304 without a body, by ETag or by date; a changed file is sent again.
    const etag = gz.headers.etag!, lastModified = gz.headers['last-modified']!;
    assert.match(etag, /^"[0-9a-f]+-[0-9a-f]+-gz"$/);
    assert.ok(Number.isFinite(Date.parse(lastModified)));
    assert.equal(gz.headers['cache-control'], 'no-cache');
    const again = await get(server.url, '/fpet/app.js', { 'Accept-Encoding': 'gzip', 'If-None-Match': `"x", ${etag}` });
    assert.equal(again.status, 304);
    assert.equal(again.body.length, 0);
    assert.equal(again.headers.etag, etag);
    assert.equal((await get(server.url, '/fpet/app.js', { 'If-Modified-Since': lastModified })).status, 304);
    assert.equal((await get(server.url, '/fpet/app.js', { 'If-Modified-Since': new Date(Date.parse(lastModified) - 5000).toUTCString() })).status, 200);
    assert.equal((await get(server.url, '/fpet/app.js', { 'If-None-Match': '"other"', 'If-Modified-Since': lastModified })).status, 200, 'If-None-Match wins');
    writeFileSync(join(root, 'fpet', 'app.js'), `${js}// rebuilt\n`);
    const changed = await get(server.url, '/fpet/app.js', { 'Accept-Encoding': 'gzip', 'If-None-Match': etag });
    assert.equal(changed.status, 200);
    assert.match(gunzipSync(changed.body).toString(), /rebuilt/);
    // HEAD: the headers of the GET, no body.
    const head = await get(server.url, '/fpet/app.js', { 'Accept-Encoding': 'gzip' }, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    assert.equal(head.length, changed.body.length);
    // /fpet -> /fpet/ (query kept), so the page's relative asset paths resolve.
    const moved = await get(server.url, '/fpet?x=1');
    assert.equal(moved.status, 301);
    assert.equal(moved.headers.location, '/fpet/?x=1');
    assert.equal((await get(server.url, '/fpet/')).body.toString(), '<!doctype html><title>page</title>');
    assert.equal((await get(server.url, '//fpet')).headers.location, '/fpet/', 'never a protocol-relative redirect');
  } finally {
    await server.close();
    rmSync(root, { recursive: true, force: true });
  }
});

test('web: Accept-Encoding is read as RFC 9110 says', () => {
  for (const yes of ['gzip', 'deflate, gzip', 'gzip;q=0.5', '*', 'GZIP', 'x-gzip']) assert.ok(acceptsGzip(yes), yes);
  for (const no of [undefined, '', 'br', 'gzip;q=0', 'deflate, gzip; q=0.000', 'identity']) assert.ok(!acceptsGzip(no), String(no));
});

test('web: the static server survives its folder missing or removed while serving (404s, no crash)', { timeout: 60_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'web-gone-'));
  writeFileSync(join(root, 'index.html'), 'hello');
  assert.equal(resolveStatic(join(root, 'never-there'), '/'), undefined, 'a missing root resolves nothing');
  const server = await serveStatic(root);
  try {
    assert.deepEqual((await get(server.url, '/')).body.toString(), 'hello');
    rmSync(root, { recursive: true, force: true });
    for (const path of ['/', '/index.html', '/x/y.js', '/favicon.ico']) {
      const r = await get(server.url, path);
      assert.ok(r.status === 404 || (path === '/favicon.ico' && r.status === 204), `${path}: ${r.status}`);
    }
    mkdirSync(root);
    writeFileSync(join(root, 'index.html'), 'back');
    assert.equal((await get(server.url, '/')).body.toString(), 'back', 'served again once it is back');
  } finally {
    await server.close();
    rmSync(root, { recursive: true, force: true });
  }
});

test('web: files created and deleted while 4 clients request them: every answer is a whole file or a 404, and the server stays up', { timeout: 120_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'web-race-'));
  const body = Buffer.alloc(64 * 1024, 7);
  writeFileSync(join(root, 'index.html'), 'ok');
  const server = await serveStatic(root);
  let stop = false;
  // Another process creates (whole, by rename) and deletes the files, so that a deletion can land
  // between the server's path check and its read (in this process it could not: one event loop).
  const churn = spawn(process.execPath, ['-e', `const fs = require('fs'); const b = Buffer.alloc(${body.length}, 7);
    const d = process.argv[1];
    for (;;) { for (let i = 0; i < 4; i++) { fs.writeFileSync(d + '/.t' + i, b); fs.renameSync(d + '/.t' + i, d + '/f' + i + '.bin'); } for (let i = 0; i < 4; i++) fs.rmSync(d + '/f' + i + '.bin', { force: true }); }`, root], { stdio: 'ignore' });
  const seen = { ok: 0, missing: 0, dropped: 0 };
  const client = async (k: number) => {
    while (!stop) {
      const r = await get(server.url, `/f${k}.bin`);
      if (r.status === 200) {
        assert.equal(r.length, body.length);
        assert.equal(r.body.length, body.length, 'a 200 carries the whole file');
        seen.ok++;
      } else if (r.status === 404) seen.missing++;
      else seen.dropped++;
    }
  };
  try {
    const clients = [0, 1, 2, 3].map(client);
    await new Promise((r) => setTimeout(r, 1500));
    stop = true;
    churn.kill();
    await Promise.all(clients);
    console.log(`1.5 s of churn: ${seen.ok} whole files, ${seen.missing} 404s, ${seen.dropped} dropped`);
    assert.equal(seen.dropped, 0);
    assert.ok(seen.ok + seen.missing > 20);
    assert.equal((await get(server.url, '/')).body.toString(), 'ok', 'the server is still up');
  } finally {
    stop = true;
    churn.kill();
    await server.close();
    rmSync(root, { recursive: true, force: true });
  }
});

test('web: a --host that is not this machine\'s, or a port in use, is a clear error', async () => {
  const root = mkdtempSync(join(tmpdir(), 'web-listen-'));
  try {
    await assert.rejects(serveStatic(root, { host: '203.0.113.7' }), /--host "203\.0\.113\.7" is not an address of this machine \(EADDRNOTAVAIL\): use 127\.0\.0\.1, ::1 or localhost/);
    const first = await serveStatic(root);
    try {
      await assert.rejects(serveStatic(root, { port: first.port }), new RegExp(`port ${first.port} on "127\\.0\\.0\\.1" is in use: choose another with --port`));
    } finally {
      await first.close();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
