// wgsl_reflect's "main" is a CommonJS file inside a "type": "module" package, which Node refuses;
// its ES module build has no typings of its own, so borrow the package's.
declare module 'wgsl_reflect/wgsl_reflect.module.js' {
  export * from 'wgsl_reflect';
}
