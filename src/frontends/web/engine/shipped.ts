// The trained adapters the page ships (the main job's AdaptFormer and AdaptFormer + FPET runs on
// MNIST, listed in assets/manifest.json by build.ts): fetched once each, decoded onto the
// backbone, and described so that the page can say which model answers.

import { decodeAdapters, type ModelSpec, type Weights } from '../../../index.ts';
import type { WebManifest } from '../build.ts';
import type { Origin } from '../protocol.ts';
import type { VariantId } from '../variants.ts';

/** Shipped adapters decoded for the page (batch 1). */
export interface ShippedModel {
  readonly spec: ModelSpec;
  readonly weights: Weights;
  readonly step: number;
  /** e.g. "the main job's trained adapters (models/…): 92.08% on the 10,000 MNIST test images". */
  readonly source: string;
  /** e.g. "shipped: main job, 92.08% on MNIST test". */
  readonly short: string;
}

/** The shipped adapters of the manifest, by data set and variant. */
export class ShippedAdapters {
  private readonly loaded = new Map<string, Promise<ShippedModel>>();

  constructor(private readonly manifest: WebManifest, private readonly fetchBytes: (url: string) => Promise<Uint8Array>) {}

  private entry(dataset: string | undefined, id: VariantId) {
    return this.manifest.adapters.find((a) => a.dataset === dataset && a.variant === id);
  }

  /** What a variant's weights are at first sight on this data set: shipped when there is a file, else fresh. */
  originFor(dataset: string | undefined, id: VariantId): Origin {
    return this.entry(dataset, id) ? 'shipped' : 'fresh';
  }

  /** The variant's shipped model for the data set, or undefined when the page ships none. */
  async load(dataset: string, id: VariantId, backbone: Weights): Promise<ShippedModel | undefined> {
    const e = this.entry(dataset, id);
    if (!e) return undefined;
    let p = this.loaded.get(e.file);
    if (!p) {
      p = this.fetchBytes(`assets/${e.file}`).then((bytes) => {
        const m = decodeAdapters(bytes, backbone, 1, e.file);
        const acc = `${(100 * e.testAccuracy).toFixed(2)}% on the ${e.testImages.toLocaleString('en-US')} ${e.datasetLabel} test images`;
        const short = `shipped: main job, ${(100 * e.testAccuracy).toFixed(2)}% on ${e.datasetLabel} test`;
        return { spec: m.spec, weights: m.weights, step: m.step ?? 0, source: `the main job's trained adapters (${e.cliPath}): ${acc}`, short };
      });
      p.catch(() => this.loaded.delete(e.file));
      this.loaded.set(e.file, p);
    }
    return p;
  }
}
