// Tiny baseline JPEGs written byte by byte for the tests: one 8×8 block per component (or a
// header that declares any size), every quantiser 1, so a uniform block is its DC coefficient
// alone, 8·(v − 128), and decodes to exactly v. Markers (JFIF, Adobe), frame type, precision and
// truncation are chosen by the test.

const seg = (marker: number, body: readonly number[]) => [0xff, marker, (body.length + 2) >> 8, (body.length + 2) & 255, ...body];

export interface HandJpeg {
  /** Component id and its uniform sample value (DC difference ±128 only: 0 or 256 away from 128 is not encodable here). */
  readonly components: readonly { id: number; value: 0 | 144 | 112 }[];
  readonly adobe?: number;
  readonly jfif?: boolean;
  readonly sof?: number;
  readonly precision?: number;
  readonly width?: number;
  readonly height?: number;
  /** Drop this many bytes of entropy-coded data (a truncated file). */
  readonly cut?: number;
}

/** A one-block baseline JPEG: DC category 8 (code '0'), AC end-of-block (code '0'), 1s padding, byte stuffing. */
export function handJpeg(j: HandJpeg): Uint8Array {
  const w = j.width ?? 8, h = j.height ?? 8;
  const out: number[] = [0xff, 0xd8];
  if (j.jfif) out.push(...seg(0xe0, [0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]));
  if (j.adobe !== undefined) out.push(...seg(0xee, [0x41, 0x64, 0x6f, 0x62, 0x65, 0, 100, 0, 0, 0, 0, j.adobe]));
  out.push(...seg(0xdb, [0, ...Array(64).fill(1)]));
  out.push(...seg(j.sof ?? 0xc0, [j.precision ?? 8, h >> 8, h & 255, w >> 8, w & 255, j.components.length, ...j.components.flatMap((c) => [c.id, 0x11, 0])]));
  const lengths = (n: number) => [1, ...Array(15).fill(0)].slice(0, 16).map((v, i) => (i === 0 ? n : 0));
  out.push(...seg(0xc4, [0x00, ...lengths(1), 8]), ...seg(0xc4, [0x10, ...lengths(1), 0x00]));
  out.push(...seg(0xda, [j.components.length, ...j.components.flatMap((c) => [c.id, 0x00]), 0, 63, 0]));
  let bits = '';
  for (const c of j.components) {
    const diff = 8 * (c.value - 128); // +128 or -128: category 8
    bits += `0${(diff > 0 ? diff : diff + 255).toString(2).padStart(8, '0')}0`;
  }
  bits = bits.padEnd(Math.ceil(bits.length / 8) * 8, '1');
  const data: number[] = [];
  for (let i = 0; i < bits.length; i += 8) {
    const b = parseInt(bits.slice(i, i + 8), 2);
    data.push(b);
    if (b === 0xff) data.push(0);
  }
  out.push(...data.slice(0, data.length - (j.cut ?? 0)));
  if (!j.cut) out.push(0xff, 0xd9);
  return Uint8Array.from(out);
}

