// tfjs-decode.js - what TensorFlow.js's io.decodeWeights gives for the
// synthetic weights of tests/unit/test_tfjs.c, whose expected values are
// these (float32 as bits).  The specs and the bytes are the test's own:
// keep them in step.
//
//   node tests/vectors/tfjs-decode.js [NODE_MODULES]
//
// NODE_MODULES holds @tensorflow/tfjs-core and tfjs-backend-cpu (default:
// examples/pretrained/npm/node/node_modules, which make -C
// examples/pretrained weights installs at the pinned 4.22.0).
const path = require('path');
const modules = path.resolve(process.argv[2] ||
  path.join(__dirname, '../../examples/pretrained/npm/node/node_modules'));
const tf = require(path.join(modules, '@tensorflow/tfjs-core'));
require(path.join(modules, '@tensorflow/tfjs-backend-cpu'));

const q = (dtype, scale, min) => ({dtype, scale, min});
const specs = [
  {name: 'dense/kernel', shape: [2, 3], dtype: 'float32'},
  {name: 'codes', shape: [5], dtype: 'float32', quantization: q('uint8', 0.009007044399485869, -1.2069439495311063)},
  {name: 'anchors', shape: [3], dtype: 'float32'},
  {name: 'wide', shape: [3], dtype: 'float32', quantization: q('uint16', 1.5259021896696422e-05, -0.5)},
  {name: 'half', shape: [9], dtype: 'float32', quantization: {dtype: 'float16'}},
  {name: 'steps', shape: [3], dtype: 'int32'},
  {name: 'rounded', shape: [6], dtype: 'int32', quantization: q('uint8', 0.5, -1.5)},
  {name: 'axis', shape: [], dtype: 'int32', quantization: q('uint16', 1, 3000)},
  {name: 'nothing', shape: [2, 0], dtype: 'float32'},
  {name: 'gain', shape: [], dtype: 'float32', quantization: q('uint8', 0.1, 0.2)},
  {name: 'wrapped', shape: [2], dtype: 'int32', quantization: q('uint8', 1e10, -5e9)},
  {name: 'head/bias', shape: [2], dtype: 'float32', quantization: q('uint8', 2, -1)},
];

const bytes = [];
const u32 = (v) => bytes.push(v & 255, v >>> 8 & 255, v >>> 16 & 255, v >>> 24 & 255);
const u16 = (v) => bytes.push(v & 255, v >>> 8 & 255);
[0x3fc00000, 0xc0100000, 0x0020a8f6, 0x7f7fffff, 0x80000000, 0x3eaaaaab].forEach(u32);
bytes.push(0, 1, 128, 254, 255);
[0x3f800000, 0xbd0ccccd, 0x40490fdb].forEach(u32);
[0, 32768, 65535].forEach(u16);
[0x0000, 0x8000, 0x3c00, 0x7bff, 0x0001, 0x03ff, 0x0400, 0x3555, 0xc000].forEach(u16);
[0x80000000, 0, 0x7fffffff].forEach(u32);
bytes.push(0, 1, 2, 3, 4, 255);
u16(7);
bytes.push(3);
bytes.push(0, 1);
bytes.push(0, 1);

const hex = (v) => '0x' + v.toString(16).padStart(8, '0');
const decoded = tf.io.decodeWeights(new Uint8Array(bytes).buffer, specs);
console.log(`tfjs-core ${tf.version_core}, ${bytes.length} bytes`);
for (const s of specs) {
  const t = decoded[s.name], d = t.dataSync();
  const values = t.dtype === 'float32' ? Array.from(new Uint32Array(Float32Array.from(d).buffer), hex)
                                       : Array.from(d);
  console.log(`${s.name} ${t.dtype} [${t.shape}] ${values.join(', ')}`);
}
