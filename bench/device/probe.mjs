// Device probe (bench/device/run.sh): adapter info, features and the limits code generation uses.
import { create, globals } from 'webgpu';
Object.assign(globalThis, globals);
const gpu = create([]);
const a = await gpu.requestAdapter({ powerPreference: 'high-performance' });
if (!a) { console.log('PROBE: no adapter'); process.exit(3); }
const i = a.info;
console.log('PROBE adapter:', JSON.stringify({ vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description, subgroupMinSize: i.subgroupMinSize, subgroupMaxSize: i.subgroupMaxSize, fallback: i.isFallbackAdapter }));
console.log('PROBE features:', [...a.features].sort().join(' '));
const L = a.limits;
console.log('PROBE limits:', ['maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupStorageSize', 'maxStorageBuffersPerShaderStage', 'maxBufferSize', 'maxStorageBufferBindingSize', 'maxComputeWorkgroupSizeX'].map((k) => `${k}=${L[k]}`).join(' '));
process.exit(0);
