// The diagnostics' compile log: one line per compiled program, saying where its time went.

import type { CompileReport } from '../trainer.ts';
import { $, el, mib, secs } from './dom.ts';

// The matmul tuner (when the program used it) compiles the pipelines it needs itself, so its time
// and the pipelines' are shown together.
const describeReport = (r: CompileReport) =>
  `${r.what}: ${r.kernels} kernels (${r.distinct} distinct) in ${secs(r.totalMs)}: graph + WGSL ${secs(r.planMs)}, ` +
  `pipelines ${secs(r.pipelineMs + (r.tune?.ms ?? 0))}${r.tune ? ` (with matmul tuning: ${r.tune.searched} shapes searched${r.tune.where ? `, choices kept in ${r.tune.where}` : ''})` : ''}` +
  `, first dispatch ${secs(r.warmupMs)}; ${mib(r.bytes)}`;

/** Appends a compiled program's report to the log, stamped with the time. */
export function logCompile(report: CompileReport): void {
  const log = $('compile-log');
  log.append(el('li', {}, `${new Date().toLocaleTimeString()}  ${describeReport(report)}`));
  log.scrollTop = log.scrollHeight;
}
