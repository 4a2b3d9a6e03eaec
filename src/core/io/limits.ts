// Bounds on what a file may declare, checked before anything of that size is allocated. Each
// reader takes these defaults and accepts overrides (tests use small ones); every message that
// rejects an input names the bound it broke.

/** Bounds a safetensors header may declare, checked before anything of that size is allocated. */
export interface SafetensorsLimits {
  /** Bytes of the JSON header. The reference implementation refuses headers over 100 MB. */
  readonly maxHeaderBytes: number;
  /** Tensors in one file (counted before the header is parsed into objects). */
  readonly maxTensors: number;
  /** Characters (UTF-16 code units) of a tensor name or a metadata key. */
  readonly maxNameChars: number;
  /** Dimensions of a tensor. */
  readonly maxRank: number;
  /** Entries of `__metadata__`. */
  readonly maxMetadataEntries: number;
  /** Characters of all `__metadata__` keys and values together. */
  readonly maxMetadataChars: number;
}

export const SAFETENSORS_LIMITS: SafetensorsLimits = Object.freeze({
  maxHeaderBytes: 100_000_000,
  maxTensors: 100_000,
  maxNameChars: 1024,
  maxRank: 32,
  maxMetadataEntries: 10_000,
  maxMetadataChars: 16 * 2 ** 20,
});

/** Bounds on a PNG file, checked before it is read or inflated. */
export interface PngLimits {
  /** width × height, checked from IHDR before anything is inflated. */
  readonly maxPixels: number;
  /** Bytes of the file (checked before it is read). */
  readonly maxFileBytes: number;
}

export const PNG_LIMITS: PngLimits = Object.freeze({
  maxPixels: 4096 * 4096, // 16 Mpixel
  maxFileBytes: 256 * 2 ** 20,
});

/** Bounds on a JPEG file, checked before it is read or decoded. */
export interface JpegLimits {
  /** width × height, checked from the frame header before anything is decoded. */
  readonly maxPixels: number;
  /** Bytes of the file (checked before it is read). */
  readonly maxFileBytes: number;
  /** Memory the decoder may allocate, in MiB (jpeg-js counts its own buffers against it). */
  readonly maxMemoryMB: number;
}

export const JPEG_LIMITS: JpegLimits = Object.freeze({
  maxPixels: 4096 * 4096, // 16 Mpixel, as PNG
  maxFileBytes: 256 * 2 ** 20,
  maxMemoryMB: 512,
});

export interface JsonLimits {
  /** Characters of one JSON document read from a file (e.g. a metadata value). */
  readonly maxChars: number;
}

export const JSON_LIMITS: JsonLimits = Object.freeze({
  maxChars: 16 * 2 ** 20,
});
