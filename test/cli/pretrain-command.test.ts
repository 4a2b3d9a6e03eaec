// The README's "Reproduce it with" block and the command the transfer job prints when the shipped
// backbone is missing must name the same pre-training: both are read by people re-creating it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { PRETRAIN_COMMAND } from '../../src/frontends/cli/commands/transfer.ts';

test('every stage of PRETRAIN_COMMAND appears verbatim in the README, and only those stages', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const stages = PRETRAIN_COMMAND.split(' && \\\n  ');
  assert.ok(stages.length >= 1);
  for (const stage of stages) assert.ok(readme.includes(`${stage}\n`), `README lacks the pre-training stage:\n${stage}`);
  const section = readme.slice(readme.indexOf('## The shipped backbone'));
  const readmeStages = section.split('\n').filter((l) => l.startsWith('npm start -- train ') && l.includes('--dataset fashion-mnist'));
  assert.deepEqual(readmeStages, stages, 'the README backbone section lists other pre-training commands than PRETRAIN_COMMAND');
});
