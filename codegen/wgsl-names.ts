// Identifiers a WGSL program may not declare (W3C WGSL, sections "Keywords", "Reserved Words",
// "Predeclared Types and Type-Generators", "Type Aliases" and "Built-in Functions"). Generated
// names are checked against these sets (`assertFreeName`, by the renderer as it names locals),
// and test/codegen/names.test.ts scans every kernel of a configuration sweep so that a new naming
// scheme cannot reintroduce `let i32 = ...` (which shadowed the type and broke the next `i32(...)` call).

const KEYWORDS = `alias break case const const_assert continue continuing default diagnostic discard else enable
false fn for if let loop override requires return struct switch true var while`;

const RESERVED_WORDS = `NULL Self abstract active alignas alignof as asm asm_fragment async attribute auto await become
binding_array cast catch class co_await co_return co_yield coherent column_major common compile compile_fragment
concept const_cast consteval constexpr constinit crate debugger decltype delete demote demote_to_helper do
dynamic_cast enum explicit export extends extern external fallthrough filter final finally friend from fxgroup get
goto groupshared highp impl implements import inline instanceof interface layout lowp macro macro_rules match
mediump meta mod module move mut mutable namespace new nil noexcept noinline nointerpolation non_coherent
noncoherent noperspective null nullptr of operator package packoffset partition pass patch pixelfragment precise
precision premerge priv protected pub public readonly ref regardless register reinterpret_cast require resource
restrict self set shared sizeof smooth snorm static static_assert static_cast std subroutine super target
template this thread_local throw trait try type typedef typeid typename typeof union unless unorm unsafe unsized
use using varying virtual volatile wgsl where with writeonly yield`;

const VEC_MAT = ['vec2', 'vec3', 'vec4', ...[2, 3, 4].flatMap((c) => [2, 3, 4].map((r) => `mat${c}x${r}`))];
const PREDECLARED_TYPES = [
  'bool', 'f16', 'f32', 'i32', 'u32', 'array', 'atomic', 'ptr', 'sampler', 'sampler_comparison',
  ...VEC_MAT, ...VEC_MAT.flatMap((t) => ['f', 'h', ...(t.startsWith('vec') ? ['i', 'u'] : [])].map((s) => `${t}${s}`)),
  'texture_1d', 'texture_2d', 'texture_2d_array', 'texture_3d', 'texture_cube', 'texture_cube_array',
  'texture_multisampled_2d', 'texture_depth_multisampled_2d', 'texture_external', 'texture_storage_1d',
  'texture_storage_2d', 'texture_storage_2d_array', 'texture_storage_3d', 'texture_depth_2d',
  'texture_depth_2d_array', 'texture_depth_cube', 'texture_depth_cube_array',
  // Not types, but predeclared enumerants we never want to shadow either.
  'function', 'private', 'workgroup', 'uniform', 'storage', 'handle', 'read', 'write', 'read_write',
];

const BUILTIN_FUNCTIONS = `bitcast all any select arrayLength abs acos acosh asin asinh atan atanh atan2 ceil clamp cos
cosh countLeadingZeros countOneBits countTrailingZeros cross degrees determinant distance dot dot4U8Packed
dot4I8Packed exp exp2 extractBits faceForward firstLeadingBit firstTrailingBit floor fma fract frexp insertBits
inverseSqrt ldexp length log log2 max min mix modf normalize pow quantizeToF16 radians reflect refract
reverseBits round saturate sign sin sinh smoothstep sqrt step tan tanh transpose trunc dpdx dpdxCoarse dpdxFine
dpdy dpdyCoarse dpdyFine fwidth fwidthCoarse fwidthFine textureDimensions textureGather textureGatherCompare
textureLoad textureNumLayers textureNumLevels textureNumSamples textureSample textureSampleBias
textureSampleCompare textureSampleCompareLevel textureSampleGrad textureSampleLevel textureSampleBaseClampToEdge
textureStore atomicLoad atomicStore atomicAdd atomicSub atomicMax atomicMin atomicAnd atomicOr atomicXor
atomicExchange atomicCompareExchangeWeak pack4x8snorm pack4x8unorm pack4xI8 pack4xU8 pack4xI8Clamp
pack4xU8Clamp pack2x16snorm pack2x16unorm pack2x16float unpack4x8snorm unpack4x8unorm unpack4xI8 unpack4xU8
unpack2x16snorm unpack2x16unorm unpack2x16float storageBarrier textureBarrier workgroupBarrier
workgroupUniformLoad subgroupAdd subgroupAll subgroupAnd subgroupAny subgroupBallot subgroupBroadcast
subgroupBroadcastFirst subgroupElect subgroupExclusiveAdd subgroupExclusiveMul subgroupInclusiveAdd
subgroupInclusiveMul subgroupMax subgroupMin subgroupMul subgroupOr subgroupShuffle subgroupShuffleDown
subgroupShuffleUp subgroupShuffleXor subgroupXor quadBroadcast quadSwapDiagonal quadSwapX quadSwapY`;

const words = (s: string) => s.split(/\s+/).filter(Boolean);

/** Every identifier a kernel must not declare, with the list it comes from. */
export const WGSL_UNDECLARABLE: ReadonlyMap<string, string> = new Map([
  ...words(BUILTIN_FUNCTIONS).map((w) => [w, 'builtin function'] as const),
  ...PREDECLARED_TYPES.map((w) => [w, 'predeclared type or enumerant'] as const),
  ...words(RESERVED_WORDS).map((w) => [w, 'reserved word'] as const),
  ...words(KEYWORDS).map((w) => [w, 'keyword'] as const),
]);

/** Why `name` cannot be declared in WGSL, or undefined when it can. */
export function whyUndeclarable(name: string): string | undefined {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return 'not an identifier';
  if (name === '_' || name.startsWith('__')) return 'reserved by the grammar (_ and names starting with __)';
  return WGSL_UNDECLARABLE.get(name);
}

export function assertFreeName(name: string): string {
  const why = whyUndeclarable(name);
  if (why) throw new Error(`generated WGSL identifier "${name}" is a ${why}`);
  return name;
}
