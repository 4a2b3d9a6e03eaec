/// <reference types="@webgpu/types" preserve="true" />
/**
 * The main entry of fpet-webgpu: the graph IR, code generation, the WebGPU runtime, the FPET models,
 * training and inference. Runs in Node (Dawn), Deno and browsers.
 *
 * @module fpet-webgpu
 */
// fpet-webgpu: the public API. Everything here runs in Node (Dawn), Deno and browsers; file and
// data-set helpers that need Node's file system are in `fpet-webgpu/node` (src/node.ts).
//
//   build a graph        GraphBuilder, nn.*, gradients, evaluate (float64), checkGradients
//   compile and run      requestGpu, compile(graph, gpu) -> Program (run, read, time, profile), verifyOnDevice
//   models               VIT_PRESETS, buildModel (FPET / ToMe / PET), initialWeights, mergeSchedule, merge maps
//   train and infer      TrainStep, trainLoop (callbacks), Classifier, withAdamW, learningRate
//   data and files       makeSplits, batches, shiftAugment, affineAugment, encode/decodeSafetensors, parseNameMap,
//                        BatchSource, timm's image transforms, decodeImagePlanar (PNG / JPEG), normalizations

export { VERSION } from './core/version.ts';

// Graph IR
export { Graph, GraphBuilder, Tensor, type Node, type NodeOf, type Operand } from './core/ir/graph.ts';
export {
  OPS, OP_NAMES,
  type AttentionBackwardAttrs, type CompareKind, type F64, type NoAttrs, type OpAttrs, type OpKind, type OpName, type OpRule, type VjpArgs,
} from './core/ir/ops.ts';
export { ShapeError, type DType, type Shape, type TensorType } from './core/ir/shape.ts';
/** Composite layers built from the primitive ops: linear, LayerNorm, softmax, GELU, cross-entropy. */
export * as nn from './core/ir/nn.ts';
export { gradients, gradName, type GradOptions } from './core/ir/autodiff.ts';
export { evaluate, type EvalResult as ReferenceResult, type Feeds } from './core/ir/interpret.ts';
export { checkGradients, type GradCheckOptions, type GradCheckResult } from './core/ir/gradcheck.ts';

// Code generation and execution
export {
  compileGraph, describePlan, DEFAULT_LIMITS,
  type Arena, type CodegenLimits, type CompiledPlan, type CompileOptions, type KernelBinding, type MatmulChooser, type MatmulKernelInfo, type PlanKernel, type PlanTensor, type Specialize,
} from '../codegen/compile.ts';
export type { MemoryPlan, Placement } from '../codegen/memory.ts';
export type { PlanStep } from '../codegen/steps.ts';
export type { AttentionPattern } from '../kernels/template.ts';
export { FUSION_PASSES, FusionPlan, UNFUSED_PASSES, type AttentionGroup, type FusionOptions, type FusionPass, type FusionState } from '../codegen/fusion/index.ts';
export { Buf, Local, type AluOp, type Builtin, type BufKind, type Expr, type Helper, type KernelIR, type Scalar, type Stmt, type Ty, type Width } from '../kernels/ir.ts';
export { treeText } from '../codegen/dump.ts';
export type { AdapterClass, MatmulSignature, MatmulVariant } from '../kernels/matmul-variants.ts';
export type { TiledConfig } from '../kernels/matmul-tiled.ts';
export type { Vec4Config } from '../kernels/matmul-vec4.ts';
export type { KernelKind } from '../kernels/template.ts';
export { compile, deviceLimits, isCpuAdapter, Program, type BoundKernel, type HostArray, type KernelTime, type ProgramOptions } from './core/runtime/program.ts';
export type { TuneCandidate, TuneEntry, TuneMode, TuneProgress, TuneResult, TuneStore } from './core/runtime/tune.ts';
export { formatAdapterReport, requestGpu, type AdapterReport, type GpuContext, type GpuMemoryStats, type GpuRuntime, type RequestGpuOptions } from './core/runtime/device.ts';
export { dawnPolling, setDawnPolling, type DawnPolling } from './core/runtime/dawn-polling.ts';
export { scaledError, verifyOnDevice, type OutputError, type Verification } from './core/runtime/verify.ts';

// Models
export { buildVit, gridSize, randomVitWeights, VIT_PRESETS, vitParamShapes, type BlockContext, type TokenState, type VitConfig, type VitHooks, type VitOutputs, type VitPreset } from './fpet/models/vit.ts';
export { isReferenceNaming, referenceNameRules, toReferenceNames, fromReferenceNames } from './fpet/models/reference-names.ts';
export {
  buildModel, DEFAULT_MERGE, DEFAULT_PET, initialWeights, mergedOutput, mergeSchedule, modelParamShapes, partnerOutput, validateSpec,
  type BuildOptions, type BuiltModel, type MergeSpec, type MergeStep, type ModelSpec, type PetMethod, type PetSpec,
} from './fpet/models/model.ts';
export { alternatingSplit, checkerboardSplit, mergeCount, mergeTokens, tokenDestinations, type MergeOptions, type MergeResult, type SplitPlan } from './fpet/models/merge.ts';
export { NORMALIZATIONS, normalizationFor, type Normalization, type NormalizationName } from './fpet/models/normalize.ts';
export { mergeMapOf, type MergeMap, type MergeMapStep } from './fpet/models/merge-map.ts';
export { adapter, quantize1bit, type AdapterConfig, type AdapterParams } from './fpet/models/pet.ts';

// Training and inference
export { TrainStep, type TrainStepOptions } from './fpet/train/train-step.ts';
export { trainLoop, NonFiniteLossError, type EpochRecord, type LoopCallbacks, type LoopOptions, type LoopResult, type StepInfo } from './fpet/train/loop.ts';
export { Classifier, softmaxRow, topClasses, type ClassScore, type ClassifierOptions, type EvalResult, type Evaluator, type Prediction, type Weights } from './fpet/train/inference.ts';
export { ADAMW_DEFAULTS, withAdamW, type AdamWConfig } from './fpet/train/optimizer.ts';
export { ABSURD_WEIGHT, adaptersMetadata, checkWeights, decodeAdapters, decodeBackbone, encodeAdapters, FILE_FORMAT, type AdapterMeta, type LoadedModel } from './fpet/train/model-files.ts';
export { inferenceThroughput, type ThroughputOptions } from './fpet/train/timing.ts';
export { cosineLr, learningRate, type ScheduleConfig } from './fpet/train/schedule.ts';

// Data and files (no file system)
export { MNIST_DIGIT_BOX, affineAugment, affineResample, batchCount, batches, makeSplits, shiftAugment, type AffineAugment, type Batch, type BatchOptions, type Dataset, type SplitOptions, type Splits, type Subset } from './fpet/data/dataset.ts';
export { isBatchSource, subsetSource, type BatchSource, type SourceBatchOptions } from './fpet/data/batch-source.ts';
export { evalTransform, randomResizedCropBox, timmTransform, trainTransform, TRANSFORM_LIMITS, type CropBox, type ImageTransform, type Interpolation } from './fpet/data/transforms.ts';
export { decodeImagePlanar, ImageError, readImageInfo, sniffImageFormat, type ImageFormat, type ImageInfo, type ImageOptions } from './core/io/image.ts';
export {
  decodeSafetensors, decodeSafetensorsHeader, encodeSafetensors, SafetensorsError, validateTensors,
  type DecodedTensor, type Expected, type ExpectedDtype, type ReadOptions, type SafetensorsContents, type SafetensorsDtype, type SafetensorsHeader, type TensorData,
  type TensorEntry, type ValidateOptions, type WritableDtype,
} from './core/io/safetensors.ts';
export type { JpegLimits, PngLimits, SafetensorsLimits } from './core/io/limits.ts';
export { applyNameMap, NameMapError, parseNameMap, type NameRule, type RenameResult } from './core/io/name-map.ts';
export { modelSpecSchema, parseMetadataJson, runStateSchema, SchemaError, type Schema } from './core/io/schema.ts';
export { decodePng, decodePngPlanar, PngError, resizePlanar, type GreyImage, type PlanarImage, type PngOptions } from './core/io/png.ts';
export { mergeMapSvg } from './fpet/models/merge-map-svg.ts';
export { mulberry32, uniformArray, type Rng } from './core/util/random.ts';
