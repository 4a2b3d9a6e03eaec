// Browser side of test/browser/throughput.ts: runs the job and hands the result to the harness.
import { throughputJob } from './throughput-job.ts';

const params = (window as unknown as { __jobOptions?: { batch: number; steps: number } }).__jobOptions ?? { batch: 8, steps: 8 };
Object.assign(window, { __result: await throughputJob(params) });
