// The on-device tuner: candidates compiled and timed, the chosen variant is one that was offered
// and matches the float64 reference (in full mode specialised to the kernel's sizes only for a
// ≥ 3% gain measured in paired rounds), choices persist (memory store; file store under
// XDG_CACHE_HOME) and a second compile searches nothing; nothing is tuned unless asked for, and a
// stored choice is keyed by the code it timed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder } from '../../src/core/ir/graph.ts';
import { evaluate } from '../../src/core/ir/interpret.ts';
import { gelu, linear } from '../../src/core/ir/nn.ts';
import { describeVariant } from '../../kernels/matmul-variants.ts';
import { compile } from '../../src/core/runtime/program.ts';
import { adapterIdentity, alignFamilies, chooserFrom, defaultTuneStore, describeTune, hash64, keepSpecialized, memoryTuneStore, SPECIALIZE_GAIN, signatureFamily, type TuneEntry, type TuneProgress } from '../../src/core/runtime/tune.ts';
import { compileGraph } from '../../codegen/compile.ts';
import { readsLengths } from '../../kernels/ir.ts';
import { assertClose, checkAgainstReference, gpu } from '../support/gpu.ts';
import { randomFeeds } from '../support/random.ts';

function smallModel() {
  const b = new GraphBuilder();
  const x = b.input('x', [3, 21, 24]);
  const h = gelu(linear(x, b.param('w1', [36, 24]), b.param('b1', [36])));
  b.output('y', linear(h, b.param('w2', [10, 36]), b.param('b2', [10])).add(x.narrow(2, 0, 10)));
  const graph = b.build();
  return { graph, feeds: randomFeeds(graph, 5) };
}

test('tuner: every signature searched, the choice is an offered variant that matches the reference, a second compile searches nothing', async () => {
  const ctx = await gpu();
  const { graph, feeds } = smallModel();
  const store = memoryTuneStore(`test-${Date.now()}`);
  const progress: TuneProgress[] = [];
  const p1 = await compile(graph, ctx, { tune: 'full', tuneStore: store, onTuneProgress: (p) => progress.push(p) });
  try {
    const t = p1.tuneResult!;
    const sigs = new Set(p1.plan.kernels.filter((k) => k.matmul).map((k) => k.matmul!.signature.key));
    assert.equal(t.searched, sigs.size, 'full mode searches every signature');
    for (const k of p1.plan.kernels.filter((x) => x.matmul)) {
      const e = t.entries[k.matmul!.signature.key]!;
      const generic = e.candidates.filter((c) => !c.variant.specialized);
      assert.ok(e.searched && generic.length === k.matmul!.offered.length, 'full mode times every offered variant');
      assert.equal(describeVariant(k.matmul!.variant), e.label, 'the plan uses the chosen variant');
      const ok = generic.filter((c) => c.ms !== undefined);
      const bestGeneric = Math.min(...ok.map((c) => c.ms!));
      assert.ok(ok.length > 0, 'some candidate ran');
      // The row count is read at run time here (63 rows): the best variant is also timed and checked
      // specialised, and kept only for a gain measured in paired rounds.
      const specialised = e.candidates.filter((c) => c.variant.specialized);
      assert.equal(specialised.length, 1, 'the best variant is timed with its sizes as constants');
      // Otherwise the fastest correct candidate wins (or, aligned with its family, one within 3% of it).
      if (!e.variant.specialized) assert.ok(e.ms! <= bestGeneric * (1 + SPECIALIZE_GAIN), 'the fastest correct candidate, within 3%');
      assert.ok(k.config.startsWith(e.variant.name), `config "${k.config}" names the variant`);
    }
    assert.ok(progress.some((p) => p.candidate), 'progress reported per candidate');
    const out = await p1.execute(feeds);
    assertClose('tuned y', out.y!, evaluate(graph, feeds).outputs.y!.data);
  } finally {
    p1.destroy();
  }
  const p2 = await compile(graph, ctx, { tune: 'quick', tuneStore: store });
  try {
    assert.equal(p2.tuneResult!.searched, 0, 'second run: no search');
    assert.equal(p2.plan, p1.plan, 'same choices, same cached plan');
  } finally {
    p2.destroy();
  }
});

test('tuner: choices persist per adapter in $XDG_CACHE_HOME/fpet-webgpu/tune-<hash>.json', async () => {
  const ctx = await gpu();
  const dir = mkdtempSync(join(tmpdir(), 'tune-xdg-'));
  const saved = process.env.XDG_CACHE_HOME;
  process.env.XDG_CACHE_HOME = dir;
  try {
    const store = await defaultTuneStore(ctx);
    const file = join(dir, 'fpet-webgpu', `tune-${hash64(await adapterIdentity(ctx))}.json`);
    assert.equal(store.where, file);
    const { graph } = smallModel();
    const p = await compile(graph, ctx, { tune: 'quick', tuneBudgetMs: 120_000 });
    p.destroy();
    assert.ok(existsSync(file), 'cache file written');
    const data = JSON.parse(readFileSync(file, 'utf8')) as { identity: string; entries: Record<string, unknown> };
    assert.equal(data.identity, await adapterIdentity(ctx));
    assert.ok(Object.keys(data.entries).length > 0);
    assert.deepEqual(Object.keys(await store.load()).sort(), Object.keys(data.entries).sort());
    const again = await compile(graph, ctx, { tune: 'quick' });
    assert.equal(again.tuneResult!.searched, 0, 'loaded from the file: no search');
    again.destroy();
  } finally {
    if (saved === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = saved;
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tuner: off unless the caller asks; a stored choice is reused only for the code it timed', async () => {
  const ctx = await gpu();
  const { graph } = smallModel();
  const p0 = await compile(graph, ctx);
  assert.equal(p0.tuneResult, undefined, 'the library does not tune unless asked');
  p0.destroy();
  const store = memoryTuneStore(`stale-${Date.now()}`);
  (await compile(graph, ctx, { tune: 'full', tuneStore: store })).destroy();
  const stored = await store.load();
  for (const key of Object.keys(stored)) assert.match(key, / #[0-9a-f]{16}$/, 'keys name the timed code');
  // The same choices under keys of other code (as if a template had changed): searched again.
  await store.save(Object.fromEntries(Object.entries(stored).map(([k, e]) => [k.replace(/#[0-9a-f]+$/, '#0000000000000000'), e])));
  const p2 = await compile(graph, ctx, { tune: 'full', tuneStore: store });
  assert.equal(p2.tuneResult!.searched, Object.keys(stored).length);
  p2.destroy();
});

test('tuner: quick with expected runs searches only what can pay back its search; kept defaults leave the plan as compiled', async () => {
  const ctx = await gpu();
  const { graph, feeds } = smallModel();
  // One run of microsecond kernels saves nothing worth compiling for.
  const once = await compile(graph, ctx, { tune: 'quick', tuneStore: memoryTuneStore(`once-${Date.now()}`), tuneExpectedRuns: 1 });
  const off = await compile(graph, ctx);
  const sigs = new Set(off.plan.kernels.filter((k) => k.matmul && k.matmul.offered.length > 1).map((k) => k.matmul!.signature.key));
  try {
    assert.ok(sigs.size >= 2, 'signatures with alternatives to search');
    const t = once.tuneResult!;
    assert.equal(t.searched, 0);
    assert.equal(t.unprofitable, sigs.size, describeTune(t));
    assert.match(describeTune(t), /kept at the default \(searching would cost more than it can save in this run\)/);
    assert.deepEqual(once.plan.steps.map((s) => s.kernel.code), off.plan.steps.map((s) => s.kernel.code), 'the default plan, not compiled again');
    const a = await once.execute(feeds), b = await off.execute(feeds);
    assert.deepEqual(Array.from(a.y!), Array.from(b.y!), 'computes exactly what tune off does');
  } finally {
    once.destroy();
    off.destroy();
  }
  for (const bad of [-1, Number.NaN, Infinity]) {
    await assert.rejects(compile(graph, ctx, { tune: 'quick', tuneStore: memoryTuneStore(`bad-${Date.now()}`), tuneExpectedRuns: bad }), /expectedRuns must be a finite number >= 0/);
  }
  // Runs enough for a tenth of the kernels' time to outweigh any compile: everything searched.
  const many = await compile(graph, ctx, { tune: 'quick', tuneStore: memoryTuneStore(`many-${Date.now()}`), tuneExpectedRuns: 1e12 });
  try {
    assert.equal(many.tuneResult!.unprofitable, 0);
    assert.equal(many.tuneResult!.searched, sigs.size);
  } finally {
    many.destroy();
  }
});

test('tuner: a specialised variant (sizes as constants) is kept only for a ≥ 3% gain in paired rounds, found again by the chooser, and computes the same', async () => {
  assert.equal(SPECIALIZE_GAIN, 0.03);
  const g = [10, 10.2, 9.9, 10.1, 10];
  assert.ok(keepSpecialized(g, [9.6, 9.7, 9.5, 9.8, 9.6]), 'faster in every round, median 4% lower');
  assert.ok(keepSpecialized(g, [9.6, 10.5, 9.5, 9.8, 9.6]), 'one round lost');
  assert.ok(!keepSpecialized(g, [9.6, 10.5, 9.5, 10.2, 9.6]), 'two rounds lost');
  assert.ok(!keepSpecialized(g, [9.8, 9.9, 9.7, 9.9, 9.8]), 'faster every round but by 2%');
  assert.ok(!keepSpecialized([10], [5]), 'one timing is never enough');
  const { graph, feeds } = smallModel();
  const generic = compileGraph(graph);
  const matmuls = generic.kernels.filter((k) => k.matmul);
  assert.ok(matmuls.every((k) => readsLengths(k.ir)), 'by default the matmuls read their row count at run time');
  // A store whose every entry is the default variant, specialised: what a tuner measuring gains everywhere keeps.
  const entries: Record<string, TuneEntry> = {};
  for (const k of matmuls) {
    const variant = { ...k.matmul!.variant, specialized: true };
    entries[k.matmul!.signature.key] = { label: describeVariant(variant), variant, searched: true, checkedAgainst: 'float64', candidates: [], mode: 'full', at: '' };
  }
  const chooser = chooserFrom(entries);
  const plan = await checkAgainstReference(graph, feeds, { matmulVariant: chooser, variantKey: 'all-specialised' });
  for (const k of plan.kernels.filter((x) => x.matmul)) {
    assert.ok(k.matmul!.variant.specialized && describeVariant(k.matmul!.variant).endsWith(' specialised'));
    assert.ok(!readsLengths(k.ir), `${k.name}: every size a constant`);
  }
  for (const k of plan.kernels.filter((x) => !x.matmul)) assert.equal(readsLengths(k.ir), readsLengths(generic.kernels.find((g) => g.root === k.root)!.ir), `${k.name}: as before`);
});

test('tuner: signatures that differ only in row counts get one variant where each loses < 3% by it (one module for both token counts)', () => {
  const variant = (rows: number) => ({ name: 'subgroup', config: { rows } }) as unknown as TuneEntry['variant'];
  const entry = (chosen: number, times: Record<number, number> | undefined): TuneEntry => ({
    label: `r${chosen}`, variant: variant(chosen), ms: times?.[chosen], searched: times !== undefined, checkedAgainst: 'float64', mode: 'quick', at: '',
    candidates: Object.entries(times ?? {}).map(([r, ms]) => ({ label: `r${r}`, variant: variant(Number(r)), ms })),
  });
  assert.equal(signatureFamily('16x50x64x16 a4/1 b1/4 v'), '16x?x64x? a4/1 b1/4 v');
  assert.equal(signatureFamily('16x25x64x16 a4/1 b1/4 v'), signatureFamily('16x50x64x16 a4/1 b1/4 v'));
  const sigs = ['1x800x32x64 a4/1 b1/4 v', '1x400x32x64 a4/1 b1/4 v', '1x800x192x64 a4/1 b1/4 v', '1x400x192x64 a4/1 b1/4 v'];
  const aligned = alignFamilies({
    // r8 is 0.5% faster for 800 rows; 400 rows kept its default r16: both run r16.
    [sigs[0]!]: entry(8, { 16: 0.205, 8: 0.204 }),
    [sigs[1]!]: entry(16, undefined),
    // 30% apart: each keeps its own.
    [sigs[2]!]: entry(8, { 16: 0.99, 8: 0.70 }),
    [sigs[3]!]: entry(16, { 16: 0.52, 8: 0.68 }),
  });
  assert.deepEqual(sigs.map((s) => aligned[s]!.label), ['r16', 'r16', 'r8', 'r16']);
  assert.equal(aligned[sigs[0]!]!.ms, 0.205, 'the time of the variant it now runs');
});
