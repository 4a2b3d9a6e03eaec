// A decoding thread of the image pool (./image-pool.ts): takes one task at a time, answers with
// the transformed pixels (their buffer transferred, not copied), a verdict, or an error message.

import { parentPort } from 'node:worker_threads';
import { loadImage, verifyImage, type LoadTask, type VerifyTask } from './image-load.ts';

parentPort?.on('message', (m: { id: number; task: LoadTask | VerifyTask }) => {
  try {
    if (m.task.kind === 'verify') {
      parentPort!.postMessage({ id: m.id, result: verifyImage(m.task) });
    } else {
      const pixels = loadImage(m.task);
      parentPort!.postMessage({ id: m.id, result: pixels }, [pixels.buffer as ArrayBuffer]);
    }
  } catch (e) {
    parentPort!.postMessage({ id: m.id, error: e instanceof Error ? e.message : String(e) });
  }
});
