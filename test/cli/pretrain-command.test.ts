// docs/backbone.md's "Reproduce it with" block and the command the transfer job prints when the
// shipped backbone is missing must name the same pre-training: both are read by people re-creating it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { PRETRAIN_STAGES } from '../../src/fpet/recipes/backbone.ts';

test('every stage of the backbone recipe appears verbatim in docs/backbone.md, and only those stages', () => {
  const doc = readFileSync(new URL('../../docs/backbone.md', import.meta.url), 'utf8');
  assert.ok(PRETRAIN_STAGES.length >= 1);
  for (const stage of PRETRAIN_STAGES) assert.ok(doc.includes(`${stage}\n`), `docs/backbone.md lacks the pre-training stage:\n${stage}`);
  const section = doc.slice(doc.indexOf('## The shipped backbone'));
  const docStages = section.split('\n').filter((l) => l.startsWith('npm start -- train ') && l.includes('--dataset fashion-mnist'));
  assert.deepEqual(docStages, PRETRAIN_STAGES, 'docs/backbone.md lists other pre-training commands than PRETRAIN_STAGES');
});
