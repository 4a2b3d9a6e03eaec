// `sweep`: the accuracy–speed trade-off. Trains AdaptFormer alone, with FPET at every merge ratio ×
// merge block asked for, and with ToMe at every r asked for (ToMe's constant r from block 0), same
// data and recipe; times every trained model for inference side by side; writes sweep.json and
// sweep.svg (test accuracy against measured images per second, one curve per method).

import { join } from 'node:path';
import { defineCommand } from '../command.ts';
import { UsageError, type Parsed } from '../args.ts';
import { describeSpec } from '../model-options.ts';
import { markdownRows } from '../report.ts';
import { SWEEP_OPTIONS, checkPlannedRuns, trainOptionsFrom } from '../train-options.ts';
import type { GpuContext } from '../../../core/runtime/device.ts';
import type { TuneMode } from '../../../core/runtime/tune.ts';
import { writeFileAtomic } from '../../../core/util/atomic.ts';
import { lineChart } from '../../../core/util/svg.ts';
import { formatDuration } from '../../../core/util/progress.ts';
import { prepareRun, trainRun, type PreparedRun } from '../../../fpet/train/run.ts';
import { Classifier } from '../../../fpet/train/inference.ts';
import { inferenceThroughput } from '../../../fpet/train/timing.ts';
import { loadTrainedModel } from '../../../fpet/train/trained-model.ts';
import { DEFAULT_MERGE, mergeSchedule, tokensRemoved, type ModelSpec } from '../../../fpet/models/model.ts';
import { sourceOf, takeBatches } from '../../../fpet/data/batch-source.ts';
import { multiRunDefaults, SWEEP } from '../../../fpet/recipes/main-job.ts';
import { MNIST_SIZES } from '../train-options.ts';

interface Point {
  readonly method: 'adaptformer' | 'fpet' | 'tome';
  readonly label: string;
  readonly spec: ModelSpec;
  readonly dir: string;
  /** The option values that make this run, for messages. */
  readonly from: string;
}

type SweepArgs = Parsed<typeof SWEEP_OPTIONS> & { inputCrop?: number; adapterDim?: number };
type Row = { method: Point['method']; label: string; merge: ModelSpec['merge'] | null; tokensRemoved: number; accuracy: number; imagesPerSec: number; speedup: number };

export default defineCommand({
  summary: 'Accuracy vs measured speed: FPET over merge ratios × blocks, ToMe over r, AdaptFormer; JSON and an SVG chart.',
  options: SWEEP_OPTIONS,
  stops: 'finishing this step and writing the checkpoint',
  async run(parsed, session) {
    const started = performance.now();
    // The options as run: with the input crop and adapter width chosen for the data set and model (recorded in sweep.json).
    const a: SweepArgs = { ...parsed, ...multiRunDefaults(parsed) };
    const base = trainOptionsFrom({ ...a, merge: 'none' }, { trainSize: MNIST_SIZES.trainSize, testSize: SWEEP.testSize });
    const evalEvery = a.evalEvery > 0 ? a.evalEvery : a.epochs;
    checkTomeRs(a.tomeRs.map(Number), base.spec);
    const points = sweepPoints(a, base.spec);
    // Every run checked (model, distinct folders) before the data is loaded or anything trains.
    checkPlannedRuns('sweep', points.map((p) => ({ label: p.from, spec: p.spec, outDir: join(a.out, p.dir) })), a.dropout, a.dropPath);
    const prepared: PreparedRun[] = [];
    for (const p of points) prepared.push(await prepareRun({ ...base, spec: p.spec, evalEvery, outDir: join(a.out, p.dir), shouldStop: session.stop.shouldStop }));
    const ctx = await session.gpu();
    console.log(`${points.length} models: ${points.map((p) => p.label).join('; ')}`);
    const accuracy: number[] = [];
    for (const [k, p] of points.entries()) {
      console.log(`\n== ${k + 1}/${points.length} ${p.label}: ${describeSpec(p.spec)}`);
      const r = await trainRun(ctx, prepared[k]!);
      if (r.interrupted) return 130;
      accuracy.push(r.finalAccuracy);
    }
    const rates = await timeModels(ctx, a, points, prepared[0]!, base.backbone);
    const rows: Row[] = points.map((p, k) => ({ method: p.method, label: p.label, merge: p.spec.merge ?? null, tokensRemoved: tokensRemoved(p.spec), accuracy: accuracy[k]!, imagesPerSec: rates[k]!, speedup: rates[k]! / rates[0]! }));
    console.log(`\n${markdownRows(['model', 'tokens removed', 'test acc', 'infer img/s', 'speedup'], rows.map((r) => [r.label, String(r.tokensRemoved), `${(100 * r.accuracy).toFixed(2)}%`, r.imagesPerSec.toFixed(1), `${r.speedup.toFixed(2)}x`]))}`);
    await writeSweep(a, ctx, rows, (performance.now() - started) / 1000);
    return 0;
  },
});

/**
 * ToMe clamps r to half the tokens a block sees, so an r beyond what the first block can merge
 * trains the same model as that maximum: refused, with the range, before anything runs.
 */
function checkTomeRs(rs: readonly number[], base: ModelSpec): void {
  if (!rs.length) return;
  const most = mergeSchedule({ ...base, merge: { ...DEFAULT_MERGE, kind: 'tome', blocks: [0], r: Number.MAX_SAFE_INTEGER } })[0]!.r;
  const over = rs.find((r) => r > most);
  if (over !== undefined) throw new UsageError(`sweep: --tome-rs ${over}: ToMe merges at most ${most} tokens per block in this model (half of the ${mergeSchedule({ ...base, merge: { ...DEFAULT_MERGE, kind: 'tome', blocks: [0], r: 1 } })[0]!.tokensIn - 1} patch tokens; a larger r is clamped to it): each r must be in [1, ${most}]`);
}

/** AdaptFormer, FPET at every ratio × block, ToMe at every r (blocks 0..depth-2). */
function sweepPoints(a: SweepArgs, base: ModelSpec): Point[] {
  const points: Point[] = [{ method: 'adaptformer', label: 'AdaptFormer', spec: base, dir: 'adaptformer', from: 'the AdaptFormer run' }];
  for (const ratio of a.ratios.map(Number)) {
    for (const block of a.blocks.map(Number)) {
      points.push({ method: 'fpet', label: `FPET ρ=${ratio} @${block}`, spec: { ...base, merge: { ...DEFAULT_MERGE, blocks: [block], ratio } }, dir: `fpet-r${ratio}-b${block}`, from: `--ratios ${ratio} at --blocks ${block}` });
    }
  }
  const depth = base.vit.depth;
  for (const r of a.tomeRs.map(Number)) {
    points.push({ method: 'tome', label: `ToMe r=${r}`, spec: { ...base, merge: { ...DEFAULT_MERGE, kind: 'tome', blocks: [...Array(depth - 1).keys()], r } }, dir: `tome-r${r}`, from: `--tome-rs ${r}` });
  }
  return points;
}

/** Inference images/s of every trained model, measured side by side on the same test images. */
async function timeModels(ctx: GpuContext, a: SweepArgs, points: readonly Point[], first: PreparedRun, backbone: string | undefined): Promise<number[]> {
  const batch = Math.min(a.evalBatch, sourceOf(first.test).count);
  const images = (await takeBatches(first.test, batch, 2)).map((b) => b.images);
  const classifiers: Classifier[] = [];
  for (const p of points) {
    const m = await loadTrainedModel(join(a.out, p.dir, 'adapters.safetensors'), backbone, batch);
    classifiers.push(await Classifier.create(ctx, m.spec, m.weights, { tune: a.tune as TuneMode }));
  }
  console.log(`\ntiming inference: ${a.timingRounds} steps of ${batch} images per model, interleaved`);
  const rates = await inferenceThroughput(ctx, classifiers, { rounds: a.timingRounds, images });
  classifiers.forEach((c) => c.destroy());
  return rates;
}

/** sweep.json and sweep.svg: test accuracy against measured images/s, one curve per method (and per FPET block). */
async function writeSweep(a: SweepArgs, ctx: GpuContext, rows: readonly Row[], wallSeconds: number): Promise<void> {
  const curve = (m: Point['method']) => rows.filter((r) => r.method === m || r.method === 'adaptformer').map((r) => [r.imagesPerSec, r.accuracy] as const).sort((x, y) => x[0] - y[0]);
  const fpetByBlock = a.blocks.map((b) => ({ name: `FPET @block ${b}`, points: rows.filter((r) => r.method === 'fpet' && r.merge?.blocks[0] === Number(b)).map((r) => [r.imagesPerSec, r.accuracy] as const).sort((x, y) => x[0] - y[0]) }));
  await writeFileAtomic(join(a.out, 'sweep.json'), JSON.stringify({ options: a, adapter: ctx.info, wallSeconds, rows }, null, 2));
  await writeFileAtomic(join(a.out, 'sweep.svg'), lineChart({
    title: `Accuracy vs measured inference speed (${a.data ?? a.dataset}, ${a.trainSize ?? 'all'} training images, batch ${a.evalBatch})`,
    xLabel: 'images per second',
    yLabel: 'test accuracy',
    series: [{ name: 'FPET (all)', points: curve('fpet') }, ...fpetByBlock.filter((s) => s.points.length > 1), { name: 'ToMe', points: curve('tome') }],
  }));
  console.log(`\nwrote ${join(a.out, 'sweep.json')} and ${join(a.out, 'sweep.svg')} in ${formatDuration(wallSeconds)}`);
}
