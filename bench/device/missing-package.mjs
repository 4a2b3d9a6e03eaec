// Stands in for packages the device bundle leaves out (puppeteer, onnxruntime-node): bench/device/build.sh.
const missing = new Proxy({}, { get(_, key) { if (key === 'then') return undefined; throw new Error(`not in the device bundle (${String(key)})`); } });
export default missing;
export const launch = () => { throw new Error('puppeteer is not in the device bundle'); };
export const InferenceSession = missing, Tensor = missing, env = {};
