// The package's version, as code (browsers have no package.json to read); a test keeps it equal to
// package.json's.

/** The version of fpet-webgpu this code is. */
export const VERSION = '0.2.0';
