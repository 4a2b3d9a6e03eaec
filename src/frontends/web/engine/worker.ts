// The page's GPU worker (bundled by build.ts as worker.js, started by app.ts as a module worker):
// every piece of WebGPU work of the page runs here — loading the backbone, data and shipped
// adapters, compiling, training, inference, the speed test — so the page's own thread only draws
// and answers input, however long a compile takes. Requests come in as messages and each gets
// one reply; what changes meanwhile goes out as events (src/frontends/web/protocol.ts).

import { decodeBackbone, isCpuAdapter } from '../../../index.ts';
import type { FromWorker, Request, ToWorker } from '../protocol.ts';
import { VARIANTS, VIT } from '../variants.ts';
import { DeviceControl } from './device.ts';
import { Engine, fetchBytes } from './engine.ts';
import { Files } from './files.ts';
import { Inference } from './inference.ts';
import { MergeControl } from './merge.ts';
import { ShippedAdapters } from './shipped.ts';
import { Speed } from './speed.ts';
import { Training } from './training.ts';

type Post = (message: FromWorker, transfer?: Transferable[]) => void;
const scope = globalThis as unknown as { postMessage: Post; onmessage: ((e: MessageEvent<ToWorker>) => void) | null };
const post: Post = (m, t) => scope.postMessage(m, t ?? []);

const engine = new Engine((event) => post({ event }));
const device = new DeviceControl(engine);
const training = new Training(engine);
const merge = new MergeControl(engine);
const inference = new Inference(engine);
const speed = new Speed(engine);
const files = new Files(engine, training);

/** The backbone, the first data pack and the shipped adapters; then a device and the models of first sight. */
async function init(r: Extract<Request, { kind: 'init' }>): Promise<{ software: boolean }> {
  engine.manifest = r.manifest;
  engine.merge = r.merge;
  engine.shipped = new ShippedAdapters(r.manifest, fetchBytes);
  device.tuneEntries = r.tuneEntries;
  engine.status('loading the backbone, the data and the trained adapters…');
  const [backboneBytes, pack] = await Promise.all([fetchBytes(`assets/${r.manifest.backbone.file}`), engine.loadPack(r.dataset)]);
  engine.pack = pack;
  engine.backbone = decodeBackbone(backboneBytes, VIT, r.manifest.backbone.file);
  for (const id of VARIANTS) await engine.firstSight(engine.variants[id]);
  await device.initGpu();
  engine.setState('ready');
  return { software: engine.ctx !== undefined && isCpuAdapter(engine.ctx) };
}

/** A new data set: its pack, and the models of first sight for it (the shipped adapters where there are some). */
async function useDataset(name: string): Promise<{ classes: readonly string[] }> {
  engine.pack = await engine.loadPack(name);
  await training.reset(`data set ${name}`);
  return { classes: engine.pack.dataset.classes };
}

/** One request's answer (thrown errors become the reply's error). */
async function handle(r: Request): Promise<unknown> {
  switch (r.kind) {
    case 'init': return init(r);
    case 'dataset': return useDataset(r.name);
    case 'held-out': return inference.heldOut(r.index);
    case 'picture': return inference.setPicture(r.picture);
    case 'start': return training.start(r.settings);
    case 'pause': return training.pauseOrResume();
    case 'reset': return training.reset();
    case 'merge': return merge.respecialise(r.choice);
    case 'measure': return speed.measure(r.evalBatch);
    case 'download': return files.download(r.id);
    case 'upload': return files.upload(r.name, r.bytes);
    case 'lose-device': return device.loseDevice();
    case 'memory':
      if (r.settled) await engine.queue.settled();
      return engine.ctx ? { ...engine.ctx.memory } : undefined;
  }
}

scope.onmessage = (e) => {
  const { id, request } = e.data;
  handle(request).then(
    (value) => {
      const bytes = request.kind === 'download' ? (value as { bytes: Uint8Array }).bytes.buffer : undefined;
      post({ reply: id, ok: true, value }, bytes ? [bytes as ArrayBuffer] : undefined);
    },
    (err: unknown) => post({ reply: id, ok: false, error: (err instanceof Error ? err.message : String(err)).slice(0, 600) }),
  );
};
