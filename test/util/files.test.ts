// Files read and written on the user's behalf (src/core/util/files.ts, atomic.ts, temp-names.ts,
// errno.ts): small inputs refused before a byte is read unless they are small regular files (a
// FIFO cannot hang, /dev/zero cannot fill memory), temporaries named so that cleanup removes only
// its own dead writers' files, outputs checked before any work, and write errors naming the file
// the user asked for in words (a full disk and a read-only file system are produced for real in a
// private mount namespace where the machine allows it).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkOutputDir, checkOutputFile, processAlive, readSmallFile, removeStaleTemporaries } from '../../src/core/util/files.ts';
import { TEMP_PREFIX, tempName, tempNamePid } from '../../src/core/util/temp-names.ts';
import { tempPathFor, writeFileAtomic } from '../../src/core/util/atomic.ts';
import { fsErrorText } from '../../src/core/util/errno.ts';
import { writeSafetensors } from '../../src/core/io/safetensors.ts';

const fresh = () => mkdtempSync(join(tmpdir(), 'files-test-'));

/** The pid of a process that has exited (a child we started and waited for). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '0']);
  assert.ok(r.pid && !processAlive(r.pid));
  return r.pid;
}

test('readSmallFile: regular files up to the limit; a FIFO, a device, a folder or a larger file is refused before reading', { timeout: 30_000 }, () => {
  const dir = fresh();
  try {
    writeFileSync(join(dir, 'ok.txt'), 'abc');
    assert.equal(readSmallFile(join(dir, 'ok.txt'), 3, '--name-map').toString(), 'abc');
    writeFileSync(join(dir, 'big.txt'), 'abcd');
    assert.throws(() => readSmallFile(join(dir, 'big.txt'), 3, '--name-map'), /^FileCheckError: --name-map .*big\.txt: is 4 bytes, over the 3-byte limit$/);
    // /dev/zero would read forever; a FIFO without a writer would block the open itself.
    const t0 = performance.now();
    assert.throws(() => readSmallFile('/dev/zero', 1_000_000, '--name-map'), /--name-map \/dev\/zero: is a device, not a regular file/);
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    assert.throws(() => readSmallFile(join(dir, 'fifo'), 1_000_000, 'run.json'), /run\.json .*fifo: is a FIFO \(named pipe\), not a regular file/);
    assert.ok(performance.now() - t0 < 2000, 'refused at once');
    assert.throws(() => readSmallFile(dir, 10, '--name-map'), /is a folder, not a regular file/);
    assert.throws(() => readSmallFile(join(dir, 'missing'), 10, '--name-map'), /--name-map .*missing: cannot open it: no such file or folder \(ENOENT\)/);
    assert.throws(() => readSmallFile(join(dir, 'x\u001b[2J'), 10, '--name-map'), /x\\x1b\[2J/, 'the path is escaped');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('temporary names: a fixed prefix, the writer\'s pid, a random part and the target; anything else is not ours', () => {
  const name = tempName('checkpoint.safetensors', 4242, '9f3a0c1d');
  assert.equal(name, '.fpet-webgpu-tmp.4242.9f3a0c1d.checkpoint.safetensors');
  assert.equal(tempNamePid(name), 4242);
  assert.ok(tempName('x'.repeat(300), 1, 'abcdef01').length < 160, 'long targets are clipped (file names are at most 255 bytes)');
  for (const other of ['.checkpoint.safetensors.123.abcd.tmp', '.bashrc.tmp', '.fpet-webgpu-tmp.', '.fpet-webgpu-tmp.12.zz.x', '.fpet-webgpu-tmp.0.abcdef01.x', '.fpet-webgpu-tmp.12.abcdef01.', `${TEMP_PREFIX}12345678901.abcdef01.x`, 'notes.txt']) {
    assert.equal(tempNamePid(other), undefined, other);
  }
  assert.match(tempPathFor('/a/b/run.json'), new RegExp(`^/a/b/\\.fpet-webgpu-tmp\\.${process.pid}\\.[0-9a-f]{8}\\.run\\.json$`));
});

test('removeStaleTemporaries removes only our temporaries whose writer is gone: other programs\' files, live writers\' and links stay', { timeout: 30_000 }, async () => {
  const dir = fresh();
  const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
  try {
    const dead = deadPid();
    const foreign = ['.bashrc.tmp', '.checkpoint.safetensors.123.abcd.tmp', 'notes.tmp', '.x.tmp'];
    for (const f of foreign) writeFileSync(join(dir, f), 'not ours');
    const stale = tempName('checkpoint.safetensors', dead, 'abcdef01');
    const mine = tempName('adapters.safetensors', process.pid, 'abcdef02');
    const running = tempName('run.json', live.pid!, 'abcdef03');
    for (const f of [stale, mine, running]) writeFileSync(join(dir, f), 'partial');
    writeFileSync(join(dir, 'target.txt'), 'keep');
    symlinkSync(join(dir, 'target.txt'), join(dir, tempName('link', dead, 'abcdef04')));
    mkdirSync(join(dir, tempName('folder', dead, 'abcdef05')));
    assert.deepEqual(removeStaleTemporaries(dir), [stale]);
    const left = readdirSync(dir).sort();
    for (const f of [...foreign, mine, running, 'target.txt']) assert.ok(left.includes(f), `${f} kept`);
    assert.equal(left.includes(stale), false);
    assert.equal(readFileSync(join(dir, 'target.txt'), 'utf8'), 'keep');
    assert.deepEqual(removeStaleTemporaries(join(dir, 'missing')), []);
  } finally {
    live.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('checkOutputFile / checkOutputDir: folders, existing files without --force, files in the path, special files', () => {
  const dir = fresh();
  try {
    writeFileSync(join(dir, 'exists.onnx'), 'x');
    writeFileSync(join(dir, 'afile'), 'x');
    assert.throws(() => checkOutputFile(dir, '--out'), /--out .* is a folder; give a file name in it/);
    assert.throws(() => checkOutputFile(join(dir, 'exists.onnx'), '--out'), /--out .*exists\.onnx already exists; replace it with --force or choose another --out/);
    assert.doesNotThrow(() => checkOutputFile(join(dir, 'exists.onnx'), '--out', { replace: true }));
    assert.throws(() => checkOutputFile(join(dir, 'afile', 'x.onnx'), '--out'), /--out .*afile\/x\.onnx: .*afile is a file, not a folder/);
    assert.throws(() => checkOutputFile('/dev/null', '--out', { replace: true }), /--out \/dev\/null is a device, not a regular file/);
    assert.doesNotThrow(() => checkOutputFile(join(dir, 'new', 'deeper', 'x.onnx'), '--out'), 'folders that do not exist yet are fine');
    assert.throws(() => checkOutputDir(join(dir, 'afile'), '--out'), /--out .*afile is a file, not a folder/);
    assert.throws(() => checkOutputDir('/etc/passwd/run', '--out'), /--out \/etc\/passwd\/run: \/etc\/passwd is a file, not a folder/);
    assert.equal(existsSync(join(dir, 'new')), false, 'checks create nothing');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('write errors name the file asked for, in words, never the temporary: a folder in the way, a missing folder', async () => {
  const dir = fresh();
  try {
    mkdirSync(join(dir, 'taken'));
    await assert.rejects(writeFileAtomic(join(dir, 'taken'), 'x'), (e: Error) => {
      assert.match(e.message, /^cannot write .*taken: it is a folder \(EISDIR\); the existing file is unchanged$/);
      assert.doesNotMatch(e.message, /fpet-webgpu-tmp/);
      return true;
    });
    await assert.rejects(writeSafetensors(join(dir, 'taken'), new Map()), /safetensors .*taken: cannot write it: it is a folder \(EISDIR\); any existing file was left unchanged/);
    assert.deepEqual(readdirSync(dir), ['taken'], 'no temporary left');
    assert.equal(fsErrorText(Object.assign(new Error('x'), { code: 'ENOSPC' })), 'no space left on the device (ENOSPC)');
    assert.equal(fsErrorText(Object.assign(new Error('x'), { code: 'EROFS' })), 'read-only file system (EROFS)');
    assert.equal(fsErrorText(new Error('odd \u001b[31m')), 'odd \\x1b[31m');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Runs `script` (node, ESM) in a private mount namespace with a 64 KiB tmpfs at `mnt`, or undefined where unshare/mount are not allowed. */
function inSmallTmpfs(mnt: string, script: string, readOnly = false): { status: number | null; stdout: string; stderr: string } | undefined {
  const probe = spawnSync('unshare', ['-m', 'sh', '-c', `mount -t tmpfs -o size=64k tmpfs ${mnt}`], { encoding: 'utf8' });
  if (probe.status !== 0) return undefined;
  const remount = readOnly ? ` && mount -o remount,ro ${mnt}` : '';
  return spawnSync('unshare', ['-m', 'sh', '-c', `mount -t tmpfs -o size=64k tmpfs ${mnt}${remount} && "$0" --import tsx --input-type=module -e "$1"`, process.execPath, script], { encoding: 'utf8', cwd: process.cwd(), timeout: 60_000 });
}

test('a full disk and a read-only file system: the error names the file and says so; nothing half-written stays', { timeout: 120_000 }, (t) => {
  const mnt = fresh();
  try {
    const atomic = new URL('../../src/core/util/atomic.ts', import.meta.url).href;
    const files = new URL('../../src/core/util/files.ts', import.meta.url).href;
    const full = inSmallTmpfs(mnt, `import { writeFileAtomic } from '${atomic}'; import { readdirSync } from 'node:fs';
      try { await writeFileAtomic('${mnt}/model.onnx', new Uint8Array(1 << 20)); } catch (e) { console.log(e.message); console.log(JSON.stringify(readdirSync('${mnt}'))); }`);
    if (!full) return t.skip('unshare -m / mount not permitted here');
    assert.match(full.stdout, /cannot write .*model\.onnx: no space left on the device \(ENOSPC\); nothing was written/);
    assert.match(full.stdout, /^\[\]$/m, 'the temporary is removed');
    const ro = inSmallTmpfs(mnt, `import { checkOutputFile } from '${files}';
      try { checkOutputFile('${mnt}/sub/model.onnx', '--out'); } catch (e) { console.log(e.message); }`, true);
    assert.match(ro!.stdout, /--out .*model\.onnx: cannot write in .*: read-only file system \(EROFS\)/);
  } finally {
    rmSync(mnt, { recursive: true, force: true });
  }
});
