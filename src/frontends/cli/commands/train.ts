// `train`: PET (or full fine-tuning) of a ViT on MNIST / Fashion-MNIST or an image folder on WebGPU.

import { join } from 'node:path';
import { defineCommand } from '../command.ts';
import { display } from '../../../core/util/text.ts';
import { describeSpec } from '../model-options.ts';
import { memoryLine, resultTable } from '../report.ts';
import { TRAIN_OPTIONS, trainOptionsFrom } from '../train-options.ts';
import { prepareRun, trainRun } from '../../../fpet/train/run.ts';
import { sourceOf } from '../../../fpet/data/batch-source.ts';

export default defineCommand({
  summary: 'Train adapters (or the whole model) with FPET token merging on MNIST / Fashion-MNIST or an image folder (--data DIR).',
  options: TRAIN_OPTIONS,
  stops: 'finishing this step and writing the checkpoint',
  async run(a, session) {
    const prepared = await prepareRun({ ...trainOptionsFrom(a), shouldStop: session.stop.shouldStop });
    const ctx = await session.gpu();
    const train = sourceOf(prepared.train), test = sourceOf(prepared.test);
    console.log(`model: ${a.preset}, ${describeSpec(prepared.spec)}; data: ${train.name} ${train.count} train / ${test.count} test, ${train.classes.length} classes; ${a.epochs} epochs, batch ${a.batch}`);
    const r = await trainRun(ctx, prepared);
    console.log(`\n${resultTable([[`${a.method}${prepared.spec.merge ? `+${prepared.spec.merge.kind}` : ''}`, r]])}`);
    console.log(memoryLine(ctx));
    console.log(`\nwrote ${display(r.checkpoint)}, ${display(r.adapters)}, ${display(join(a.out, 'run.json'))}, ${display(join(a.out, 'result.json'))}, ${display(join(a.out, 'curves.svg'))}`);
    return r.interrupted ? 130 : 0;
  },
});
