// Progress-line formatting and output modes, SVG chart writers, atomic file writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Progress, formatDuration, formatProgress, formatRate, progressStats, type ProgressStream } from '../../src/core/util/progress.ts';
import { barChart, escapeXml, formatTick, lineChart, niceTicks, scatterChart, wrapText } from '../../src/core/util/svg.ts';
import { writeFileAtomic } from '../../src/core/util/atomic.ts';

// ---------------------------------------------------------------------------------------------
// progress

class FakeStream implements ProgressStream {
  chunks: string[] = [];
  constructor(readonly isTTY: boolean, readonly columns?: number) {}
  write(chunk: string): boolean {
    this.chunks.push(chunk);
    return true;
  }
  get text(): string {
    return this.chunks.join('');
  }
}

/** A clock the test moves by hand (ms). */
function fakeClock(start = 1000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => void (t += ms) };
}

test('progressStats: rate is units per second since the start, ETA is the rest at that rate', () => {
  const s = progressStats(25, 100, 10);
  assert.equal(s.rate, 2.5);
  assert.equal(s.percent, 25);
  assert.equal(s.etaSec, 30);
  assert.equal(progressStats(100, 100, 40).etaSec, 0);
  // Nothing done yet, or no time elapsed: no rate, no ETA (never Infinity or NaN).
  assert.equal(progressStats(0, 100, 5).rate, 0);
  assert.equal(progressStats(0, 100, 5).etaSec, undefined);
  assert.equal(progressStats(3, 100, 0).etaSec, undefined);
  // Overshooting the total clamps the percent and the ETA.
  assert.equal(progressStats(120, 100, 10).percent, 100);
  assert.equal(progressStats(120, 100, 10).etaSec, 0);
  // Unknown total: no percent, no ETA.
  assert.equal(progressStats(5, 0, 1).percent, undefined);
  assert.equal(progressStats(5, 0, 1).etaSec, undefined);
});

test('formatDuration and formatRate', () => {
  assert.equal(formatDuration(0), '0s');
  assert.equal(formatDuration(42.4), '42s');
  assert.equal(formatDuration(185), '3m05s');
  assert.equal(formatDuration(3720), '1h02m');
  assert.equal(formatDuration(undefined), '?');
  assert.equal(formatDuration(Infinity), '?');
  assert.equal(formatRate(2.5, 'step'), '2.50 step/s');
  assert.equal(formatRate(1234.4, 'img'), '1234 img/s');
  assert.equal(formatRate(0.5, 'case'), '30.0 case/min');
  assert.equal(formatRate(1 / 7200, 'epoch'), '0.50 epoch/h');
  assert.equal(formatRate(0, 'it'), '- it/s');
});

test('formatProgress shows count/total, percent, rate, ETA and the extra text', () => {
  const line = formatProgress('train', progressStats(30, 120, 15), 'step', 'loss 0.42', 10);
  assert.equal(line, 'train [###.......] 30/120  25.0% 2.00 step/s ETA 45s loss 0.42');
  const finished = formatProgress('train', progressStats(120, 120, 65), 'step');
  assert.match(finished, /120\/120 100\.0% .* in 1m05s$/);
  assert.doesNotMatch(formatProgress('x', progressStats(0, 10, 0), 'it'), /NaN|Infinity/);
});

test('Progress on a non-TTY prints whole lines, at most one per interval, and a final line', () => {
  const stream = new FakeStream(false);
  const clock = fakeClock();
  const p = new Progress({ label: 'bench', total: 10, unit: 'case', stream, now: clock.now, intervalMs: 5000 });
  for (let i = 0; i < 10; i++) {
    clock.advance(1000);
    p.tick(1, `case ${i}`);
  }
  p.done();
  const lines = stream.text.split('\n').filter(Boolean);
  assert.ok(!stream.text.includes('\r'), 'no carriage returns in line mode');
  // start, after 5 s, after 10 s (which is also the final state, so done() does not repeat it).
  assert.equal(lines.length, 3, stream.text);
  assert.match(lines[0]!, /^bench \[\.+\] 0\/10 +0\.0% - case\/s ETA \?$/);
  assert.match(lines[1]!, /5\/10 +50\.0% 1\.00 case\/s ETA 5s case 4$/);
  assert.match(lines[2]!, /10\/10 100\.0% 1\.00 case\/s in 10s case 9$/);
  // Ticks after done() are ignored.
  p.tick();
  assert.equal(stream.text.split('\n').filter(Boolean).length, 3);
});

test('Progress on a non-TTY: done() prints the final state when the last line was older', () => {
  const stream = new FakeStream(false);
  const clock = fakeClock();
  const p = new Progress({ label: 'plan', total: 3, stream, now: clock.now, intervalMs: 60_000 });
  clock.advance(500);
  p.tick();
  p.tick(2);
  p.done('ok');
  const lines = stream.text.trim().split('\n');
  assert.equal(lines.length, 2);
  assert.match(lines[1]!, /^plan \[#+\] 3\/3 100\.0% 6\.00 it\/s in 1s ok$/);
});

test('Progress on a TTY redraws one line with \\r, pads over longer lines, ends with a newline', () => {
  const stream = new FakeStream(true, 200);
  const clock = fakeClock();
  const p = new Progress({ label: 'run', total: 3, stream, now: clock.now, ttyIntervalMs: 100 });
  clock.advance(200);
  p.tick(1, 'a rather long description of the item');
  clock.advance(50); // within the redraw interval: no redraw
  p.tick(1);
  clock.advance(200);
  p.tick(1, 'short');
  p.log('a message');
  p.done();
  const text = stream.text;
  assert.equal(text.split('\n').length - 1, 2, 'one newline for the message, one at the end');
  assert.ok(text.endsWith('\n'));
  const frames = text.split('\r').filter(Boolean);
  // Newlines only after the logged message and after the final frame.
  for (const f of frames) if (f.includes('\n')) assert.ok(f.startsWith('a message\n') || f === frames[frames.length - 1], JSON.stringify(f));
  // The frame after the long one is padded to at least the long one's width.
  const long = frames.find((f) => f.includes('rather long'))!;
  const next = frames[frames.indexOf(long) + 1]!;
  assert.ok(next.length >= long.length, `${JSON.stringify(next)} shorter than ${JSON.stringify(long)}`);
  assert.match(text, /a message\n/);
  assert.match(text, /3\/3 100\.0%.*\n$/);
});

test('Progress on a narrow TTY truncates the line to the terminal width', () => {
  const stream = new FakeStream(true, 30);
  new Progress({ label: 'a-very-long-label-for-a-narrow-terminal', total: 5, stream }).done();
  for (const frame of stream.text.split(/[\r\n]/).filter(Boolean)) assert.ok(frame.trimEnd().length < 30, frame);
});

// ---------------------------------------------------------------------------------------------
// svg

/** Tags balanced (ignoring self-closing ones), one root <svg>, no NaN/undefined anywhere. */
function assertWellFormed(svg: string): void {
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.match(svg.trimEnd(), /<\/svg>$/);
  assert.doesNotMatch(svg, /NaN|undefined|Infinity|null/);
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z][\w-]*)([^>]*?)(\/?)>/g)) {
    const [, close, name, , self] = m;
    if (self) continue;
    if (close) assert.equal(stack.pop(), name, `unbalanced </${name}>`);
    else stack.push(name!);
  }
  assert.deepEqual(stack, [], 'unclosed tags');
  // Every attribute value is quoted, and text has no raw < or & left unescaped.
  for (const m of svg.matchAll(/>([^<]*)</g)) assert.doesNotMatch(m[1]!, /&(?![a-z]+;|#\d+;)/);
}

test('niceTicks: round steps that cover the range', () => {
  const unit = niceTicks(0, 1);
  assert.equal(unit.step, 0.2);
  assert.deepEqual(unit.values.map((v) => formatTick(v, unit.step)), ['0', '0.2', '0.4', '0.6', '0.8', '1.0']);
  const t = niceTicks(3, 97);
  assert.equal(t.step, 20);
  assert.equal(t.min, 0);
  assert.equal(t.max, 100);
  const flat = niceTicks(5, 5);
  assert.ok(flat.min < 5 && flat.max > 5);
  assert.ok(niceTicks(NaN, Infinity).values.every(Number.isFinite));
  assert.equal(formatTick(0.30000000000000004, 0.1), '0.3');
  assert.equal(formatTick(2.5, 2.5), '2.5');
  assert.equal(formatTick(2000000, 1000000), '2e6');
});

test('lineChart: axes, ticks, legend and one path per series; non-finite points dropped', () => {
  const svg = lineChart({
    title: 'Loss <train> & "val"',
    xLabel: 'step',
    yLabel: 'loss',
    series: [
      { name: 'train loss', points: [[0, 2.3], [1, 1.5], [2, NaN], [3, 0.9], [Infinity, 1]] },
      { name: 'val loss', points: [[0, 2.4], [3, 1.1]] },
    ],
  });
  assertWellFormed(svg);
  assert.ok(svg.includes('train loss') && svg.includes('val loss'));
  assert.ok(svg.includes('Loss &lt;train&gt; &amp; &quot;val&quot;'));
  assert.equal((svg.match(/<path /g) ?? []).length, 2);
  assert.ok((svg.match(/class="x-axis"/g) ?? []).length === 1 && svg.includes('class="y-axis"'));
  assert.match(svg, />step</);
});

test('lineChart with no data or a single point still renders', () => {
  assertWellFormed(lineChart({ title: 'empty', xLabel: 'x', yLabel: 'y', series: [] }));
  assertWellFormed(lineChart({ title: 'empty series', xLabel: 'x', yLabel: 'y', series: [{ name: 's', points: [] }] }));
  const one = lineChart({ title: 'one', xLabel: 'x', yLabel: 'y', series: [{ name: 'only', points: [[1, 1]] }] });
  assertWellFormed(one);
  assert.match(one, /<circle /);
});

test('barChart: one rect per finite bar, shared legend, wrapped group labels', () => {
  const svg = barChart({
    title: 'GFLOP/s',
    yLabel: 'GFLOP/s',
    groups: [
      { label: 'ViT-S qkv b1', bars: [{ name: 'generated', value: 2.2 }, { name: 'naive', value: 1.5 }] },
      { label: 'ViT-S attention fwd+bwd b8', bars: [{ name: 'generated', value: 2.5 }, { name: 'naive', value: NaN }] },
      { label: 'neg', bars: [{ name: 'delta', value: -0.5 }] },
    ],
  });
  assertWellFormed(svg);
  for (const name of ['generated', 'naive', 'delta']) assert.ok(svg.includes(`>${name}<`), name);
  assert.equal((svg.match(/<rect [^>]*fill="#(?!ffffff)/g) ?? []).length, 4 + 3, '4 bars + 3 legend boxes');
  assert.deepEqual(wrapText('ViT-S attention fwd+bwd b8', 60, 11), ['ViT-S', 'attention', 'fwd+bwd', 'b8']);
  assert.deepEqual(wrapText('', 50), ['']);
});

test('scatterChart: labelled points and the y = x diagonal', () => {
  const svg = scatterChart({
    title: 'speedup vs FLOP reduction',
    xLabel: 'FLOP reduction',
    yLabel: 'speedup',
    diagonal: true,
    series: [
      { name: 'ViT-S', points: [{ x: 1.2, y: 1.1, label: 'r=8' }, { x: 2, y: 1.6, label: 'r=16' }] },
      { name: 'ViT-Ti', points: [{ x: 1.5, y: NaN }, { x: 1.4, y: 1.2 }] },
    ],
  });
  assertWellFormed(svg);
  assert.ok(svg.includes('ViT-S') && svg.includes('ViT-Ti') && svg.includes('r=16'));
  assert.equal((svg.match(/<circle /g) ?? []).length, 3 + 2, '3 finite points + 2 legend dots');
  assert.match(svg, /class="diagonal"/);
  assert.doesNotMatch(scatterChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 'a', points: [{ x: 1, y: 2 }] }] }), /diagonal/);
});

test('escapeXml escapes the five XML specials', () => {
  assert.equal(escapeXml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;');
});

// ---------------------------------------------------------------------------------------------
// atomic writes

test('writeFileAtomic creates, then replaces content, leaving no temporary file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'atomic-test-'));
  try {
    const path = join(dir, 'results.json');
    await writeFileAtomic(path, '{"a":1}\n');
    assert.equal(await readFile(path, 'utf8'), '{"a":1}\n');
    await writeFileAtomic(path, new TextEncoder().encode('second, shorter'));
    assert.equal(await readFile(path, 'utf8'), 'second, shorter');
    assert.deepEqual(await readdir(dir), ['results.json']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('writeFileAtomic keeps an existing file\'s mode', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'atomic-test-'));
  try {
    const path = join(dir, 'script.sh');
    await writeFile(path, 'old', { mode: 0o755 });
    await writeFileAtomic(path, 'new');
    assert.equal((await stat(path)).mode & 0o777, 0o755);
    assert.equal(await readFile(path, 'utf8'), 'new');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('writeFileAtomic failing leaves the old content and no temporary file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'atomic-test-'));
  try {
    // The target is a directory: the rename fails after the temporary file was written.
    const target = join(dir, 'taken');
    await writeFile(join(dir, 'keep.txt'), 'keep');
    await import('node:fs/promises').then((fs) => fs.mkdir(join(target, 'inner'), { recursive: true }));
    await assert.rejects(writeFileAtomic(target, 'data'));
    assert.deepEqual((await readdir(dir)).sort(), ['keep.txt', 'taken']);
    // A missing directory is an error too, and creates nothing.
    await assert.rejects(writeFileAtomic(join(dir, 'missing', 'x.json'), 'data'), /ENOENT/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
