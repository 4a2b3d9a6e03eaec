// Adapters files: the trained tensors downloaded in the CLI's format (adapters.safetensors, with
// the spec in the metadata, encoded by the worker), and CLI-trained files loaded in place of a
// variant's adapters.

import type { VariantId } from '../variants.ts';
import type { EngineClient } from './engine-client.ts';
import { $, el, reportErrors, text } from './dom.ts';

/** The adapters card: download buttons, the upload field, and the CLI commands for a file. */
export class AdaptersPanel {
  constructor(private readonly engine: EngineClient) {}

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

  async download(id: VariantId): Promise<void> {
    const r = await this.engine.request({ kind: 'download', id });
    saveFile(r.name, r.bytes);
    text('files-info', r.info);
    $('files-info').dataset.lastDownload = r.name;
    text('cli-cmd', r.cli);
  }

  async upload(file: File): Promise<void> {
    if (file.size > 64 * 2 ** 20) throw new Error(`${file.name}: over 64 MB, not an adapters file`);
    const bytes = new Uint8Array(await file.arrayBuffer());
    const r = await this.engine.request({ kind: 'upload', name: file.name, bytes }, [bytes.buffer]);
    text('files-info', r.info);
    $('files-info').dataset.loaded = file.name;
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
