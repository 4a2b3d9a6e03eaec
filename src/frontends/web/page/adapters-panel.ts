// Adapters files: the trained tensors downloaded in the CLI's format (adapters.safetensors, with
// the spec in the metadata), and CLI-trained files loaded in place of a variant's adapters.

import { decodeAdapters, encodeAdapters } from '../../../index.ts';
import { SHIPPED_BACKBONE } from '../../../fpet/train/model-files.ts';
import { $, el, reportErrors, status, text } from './dom.ts';
import type { MergePanel } from './merge-panel.ts';
import type { PageState } from './page-state.ts';
import type { TrainerPanel } from './trainer-panel.ts';
import { TRAINING, label, type VariantId } from './variants.ts';

type LoadedAdapters = ReturnType<typeof decodeAdapters>;

/** The adapters card: download buttons, the upload field, and the CLI commands for a file. */
export class AdaptersPanel {
  constructor(private readonly page: PageState, private readonly trainer: TrainerPanel, private readonly merge: MergePanel) {}

  bind(): void {
    $('download-base').addEventListener('click', () => reportErrors(this.download('base')));
    $('download-fpet').addEventListener('click', () => reportErrors(this.download('fpet')));
    $<HTMLInputElement>('upload-adapters').addEventListener('change', (e) => {
      const input = e.target as HTMLInputElement;
      const f = input.files?.[0];
      input.value = '';
      if (f) reportErrors(this.upload(f));
    });
  }

  download(id: VariantId): Promise<void> {
    const page = this.page;
    return page.queue.exclusive('preparing the download…', async () => {
      const v = page.variants[id];
      const weights = await page.currentWeights(v);
      const spec = v.runner?.spec ?? v.spec;
      const bytes = encodeAdapters(spec, weights, { seed: TRAINING.seed, step: v.step, backbone: SHIPPED_BACKBONE });
      const merge = spec.merge ? `-fpet-b${spec.merge.blocks.join('_')}-r${spec.merge.ratio}` : '';
      const name = `adapters-${spec.pet.method}${merge}-step${v.step}.safetensors`;
      saveFile(name, bytes);
      const ds = page.settingsInRun?.dataset ?? $<HTMLSelectElement>('dataset').value;
      text('files-info', `${name}: ${bytes.length.toLocaleString('en-US')} bytes, ${label(v)}, step ${v.step}`);
      $('files-info').dataset.lastDownload = name;
      text('cli-cmd', `npm start -- eval --adapters ${name}${ds !== 'mnist' ? ` --dataset ${ds}` : ''}\nnpm start -- infer --adapters ${name} --merge-map runs/merge-maps`);
      status(`downloaded ${name}`);
    });
  }

  upload(file: File): Promise<void> {
    const page = this.page;
    return page.queue.exclusive(`loading ${file.name}…`, async () => {
      if (file.size > 64 * 2 ** 20) throw new Error(`${file.name}: over 64 MB, not an adapters file`);
      const bytes = new Uint8Array(await file.arrayBuffer());
      const loaded = decodeAdapters(bytes, page.backbone, 1, file.name);
      if (loaded.spec.vit.numClasses !== page.pack.dataset.classes.length) throw new Error(`${file.name} classifies ${loaded.spec.vit.numClasses} classes; ${page.pack.dataset.name} has ${page.pack.dataset.classes.length}`);
      await this.trainer.discardRun();
      const v = page.variants[loaded.spec.merge ? 'fpet' : 'base'];
      v.spec = loaded.spec;
      v.weights = loaded.weights;
      v.step = loaded.step ?? 0;
      v.source = `loaded ${file.name}${loaded.step !== undefined ? ` (step ${loaded.step})` : ''}`;
      this.showMergeOf(loaded);
      await page.buildInteractive(v, `loaded ${file.name}`);
      text('files-info', `Loaded ${file.name}: ${label(v)}${loaded.spec.merge?.kind === 'fpet' ? ` (block ${loaded.spec.merge.blocks.join(',')}, ratio ${loaded.spec.merge.ratio})` : ''}, ${loaded.trained.size} trained tensors${loaded.referenceNaming ? ' (reference names)' : ''}, step ${loaded.step ?? '?'}, backbone ${loaded.backbone}.`);
      $('files-info').dataset.loaded = file.name;
      document.body.dataset.state = 'ready';
      status(`loaded ${file.name} as the ${label(v)} model`);
      page.queue.requestInference();
    });
  }

  // The merge controls follow a loaded FPET file, so a later change re-specialises from its choice.
  private showMergeOf(loaded: LoadedAdapters): void {
    const m = loaded.spec.merge;
    if (m?.kind !== 'fpet' || m.blocks.length !== 1) return;
    $<HTMLSelectElement>('merge-block').value = String(m.blocks[0]);
    $<HTMLInputElement>('merge-ratio').value = String(m.ratio);
    this.merge.describe();
  }
}

/** Hands bytes to the browser as a download. */
function saveFile(name: string, bytes: Uint8Array): void {
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: 'application/octet-stream' }));
  const a = el('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
