// Adapters files in the worker: the current tensors encoded in the CLI's format (adapters.safetensors,
// with the spec in the metadata) for a download, and CLI-trained files loaded in place of a
// variant's adapters.

import { decodeAdapters, encodeAdapters } from '../../../index.ts';
import { SHIPPED_BACKBONE } from '../../../fpet/train/model-files.ts';
import type { ReplyOf } from '../protocol.ts';
import { TRAINING, specLabel, type VariantId } from '../variants.ts';
import type { Engine } from './engine.ts';
import type { Training } from './training.ts';

/** Adapters files, down and up. */
export class Files {
  constructor(private readonly engine: Engine, private readonly training: Training) {}

  download(id: VariantId): Promise<ReplyOf<'download'>> {
    const engine = this.engine;
    return engine.queue.exclusive('preparing the download…', async () => {
      const v = engine.variants[id];
      const weights = await engine.currentWeights(v);
      const spec = v.runner?.spec ?? v.spec;
      const bytes = encodeAdapters(spec, weights, { seed: TRAINING.seed, step: v.step, backbone: SHIPPED_BACKBONE });
      const merge = spec.merge ? `-fpet-b${spec.merge.blocks.join('_')}-r${spec.merge.ratio}` : '';
      const name = `adapters-${spec.pet.method}${merge}-step${v.step}.safetensors`;
      const ds = engine.pack.dataset.name;
      engine.status(`downloaded ${name}`);
      return {
        name, bytes,
        info: `${name}: ${bytes.length.toLocaleString('en-US')} bytes, ${specLabel(spec)}, step ${v.step} (${v.source})`,
        cli: `npm start -- eval --adapters ${name}${ds !== 'mnist' ? ` --dataset ${ds}` : ''}\nnpm start -- infer --adapters ${name} --merge-map runs/merge-maps`,
      };
    });
  }

  upload(name: string, bytes: Uint8Array): Promise<ReplyOf<'upload'>> {
    const engine = this.engine;
    return engine.queue.exclusive(`loading ${name}…`, async () => {
      if (bytes.length > 64 * 2 ** 20) throw new Error(`${name}: over 64 MB, not an adapters file`);
      const loaded = decodeAdapters(bytes, engine.backbone, 1, name);
      if (loaded.spec.vit.numClasses !== engine.pack.dataset.classes.length) throw new Error(`${name} classifies ${loaded.spec.vit.numClasses} classes; ${engine.pack.dataset.name} has ${engine.pack.dataset.classes.length}`);
      await this.training.discardRun();
      const v = engine.variants[loaded.spec.merge ? 'fpet' : 'base'];
      Object.assign(v, {
        spec: loaded.spec, weights: loaded.weights, step: loaded.step ?? 0, origin: 'loaded', trainedMerge: JSON.stringify(loaded.spec.merge ?? null),
        source: `loaded ${name}${loaded.step !== undefined ? ` (step ${loaded.step})` : ''}`,
      });
      const m = loaded.spec.merge;
      // The merge controls follow a loaded FPET file, so a later change re-specialises from its choice.
      const merge = m?.kind === 'fpet' && m.blocks.length === 1 ? { mergeBlock: m.blocks[0]!, mergeRatio: m.ratio } : undefined;
      if (merge) {
        engine.merge = merge;
        engine.emit({ kind: 'merge-set', choice: merge });
      }
      await engine.buildInteractive(v, `loaded ${name}`);
      engine.setState('ready');
      engine.status(`loaded ${name} as the ${specLabel(v.spec)} model`);
      engine.queue.requestInference();
      const info = `Loaded ${name}: ${specLabel(v.spec)}${m?.kind === 'fpet' ? ` (block ${m.blocks.join(',')}, ratio ${m.ratio})` : ''}, ${loaded.trained.size} trained tensors${loaded.referenceNaming ? ' (reference names)' : ''}, step ${loaded.step ?? '?'}, backbone ${loaded.backbone}.`;
      return { info, merge };
    });
  }
}
