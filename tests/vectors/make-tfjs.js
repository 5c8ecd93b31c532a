#!/usr/bin/env node
/*
 * make-tfjs.js - the reference outputs of TensorFlow.js's pretrained networks
 * that our imports of them must match (within 1e-4): face-api's
 * tiny_face_detector, face_recognition, face_landmark_68_tiny and
 * ssd_mobilenetv1 (@vladmandic/face-api 1.7.15), and nsfwjs 4.4.0's Keras
 * MobileNet v2 and Inception v3, all run by TensorFlow.js 4.22.0's pure
 * JavaScript cpu backend under Node.
 *
 * Run, from the top of the tree (no network; a few minutes of one core):
 *
 *     make -C examples/pretrained weights nsfwjs
 *     node tests/vectors/make-tfjs.js
 *
 * (or make -C examples/pretrained vectors).  It reads what that Makefile
 * fetched under examples/pretrained/npm/ ($CNN_PRETRAINED_NPM overrides the
 * directory), decodes the test photos with Debian's /usr/bin/python3 and
 * PIL, and rewrites beside this script:
 *
 *     tfjs-tiny-face.vec  tfjs-face-recognition.vec  tfjs-face-landmark68-tiny.vec
 *     tfjs-ssd-mobilenetv1.vec  tfjs-nsfwjs.vec  tfjs-inputs.txt
 *
 * Everything is deterministic: the same packages give the same bytes.
 *
 * Every reference is computed twice: by the library's own code (face-api's
 * dist/face-api.node-wasm.js nets; nsfwjs's dist/cjs load() and infer(),
 * reading its JavaScript-wrapped models) and by a graph written here from
 * op-level descriptions (/work/shared/faceapi.md for face-api's nets, the
 * unwrapped model.json of examples/pretrained/unwrap-nsfwjs.js for nsfwjs),
 * with its own preprocessing and its own box decoding and NMS.  The script
 * stops unless the two agree to 1e-6 (1e-5 for SSD's boxes, which it
 * decodes in double where face-api decodes in float32), and it checks its
 * padding and resizing against face-api's NetInput.toBatchTensor bit for
 * bit.  As run for the committed files every output was bit-identical but
 * those SSD boxes (2e-7 apart), so the numbers are both the library's and
 * what the descriptions say.
 *
 * ------------------------------------------------------------------ inputs
 *
 * Images are decoded by PIL (Pillow 9.4 of Debian 12, JPEG through
 * libjpeg-turbo 2.1.5 with its defaults: islow DCT, fancy upsampling; the
 * same pixels as our cnn-load, which uses the same libjpeg) to 8-bit RGB,
 * no colour management.  tfjs-inputs.txt lists, per image, its path, the
 * sha256 of the file, its size and the sha256 of its decoded pixels (H x W
 * x 3 bytes, rows top down, R,G,B), and of each crop used below.  Every
 * record repeats the sha256 of the pixels it was made from:
 *
 *     rgb_sha256=   of the whole decoded image
 *     crop=x,y,w,h  crop_sha256=   a crop (integer pixels, inside the image)
 *     input=N,H,W,C input_sum= input_sumabs= input_f32_sha256=
 *                   the network's float32 input tensor after all of its
 *                   preprocessing (NHWC), its sum and sum of |v| (in double)
 *                   and the sha256 of its little-endian float32 bytes
 *
 * ------------------------------------------------------------ file format
 *
 * The house format of make-vectors.py and tests/unit/vectors.h: records of
 * one text line of space-separated fields (a record kind, then key=value;
 * lists comma-separated; numbers in JavaScript's shortest round-trip form),
 * each followed by its float32 little-endian arrays back to back, in the
 * order and sizes listed below.  Tensors are flattened in TensorFlow.js's
 * order, NHWC (layout=nhwc says so).  Statistics are over float32 values
 * summed in double: sum, sumabs (sum of |v|), sumsq, min, max, n.  Where a
 * tensor is stored as a sample (samples=K), its K indices into the
 * flattened tensor are idx_i = floor((2i+1) n / 2K), i = 0..K-1, stored as
 * float32 (exact below 2^24), followed by the K values.
 *
 * tfjs-tiny-face.vec: face-api's TinyFaceDetector, the Node/tensor path.
 *   Preprocessing: pad the image to a square at the bottom/right with zeros
 *   (S0 = max(W,H)), tf.image.resizeBilinear to size x size with
 *   alignCorners=false, halfPixelCenters=false (the cpu kernel: src = dst *
 *   (in/out) in double, floor/ceil clamped to in-1, lerp in double, stored
 *   float32), then (v - [117.001, 114.697, 97.404][c]) / 255 in float32.
 *
 *   tinyface image= rgb_sha256= w= h= size= input=... out=G,G,25 layout=nhwc
 *       then the raw output (G*G*25): channel a*5+k of cell (row,col) is
 *       anchor a's tx, ty, tw, th, conf (k = 0..4), no sigmoid applied
 *   tinyface_det image= size= score_thr= iou=0.4 candidates= n=
 *       then n x (x, y, w, h, score): face-api's detections after decode
 *       and NMS (FaceDetection.box in pixels of the original image, not
 *       clipped; score = sigmoid(conf)), in its order (descending score);
 *       candidates = the boxes with score > score_thr before NMS
 *
 * tfjs-face-recognition.vec: face-api's FaceRecognitionNet.
 *   The crop is given to computeFaceDescriptor as an int32 H x W x 3 tensor;
 *   the net pads it to a square centred (round(d/2) zero rows or columns
 *   after, the rest before), resizes to 150 x 150 as above (skipped when it
 *   is already 150 x 150: then the input is the crop's integer pixels) and
 *   computes (v - [122.782, 117.001, 104.298][c]) / 255.
 *
 *   facerec image= rgb_sha256= crop= crop_sha256= input=1,150,150,3 ...
 *       norm= n=128   then the 128-d descriptor (raw FC output)
 *   facerec_pipeline: the same for face-api's own pipeline,
 *       detectAllFaces(TinyFaceDetectorOptions()).withFaceLandmarks(true)
 *       .withFaceDescriptors(), with det= (its detection box, pixels),
 *       landmark_crop= (the floored, clipped box given to the landmark net)
 *       and crop= (the dlib-aligned square it cut for the descriptor)
 *
 * tfjs-face-landmark68-tiny.vec: face-api's FaceLandmark68TinyNet.
 *   The crop is preprocessed like face_recognition's but to 112 x 112.
 *
 *   landmarks68tiny image= rgb_sha256= crop= crop_sha256= input=1,112,112,3
 *       ... n=136   then the 136 raw outputs (x0,y0,x1,y1,..., relative to
 *       the padded 112 square, no activation), then face-api's 136 landmark
 *       coordinates in pixels of the crop (detectLandmarks' positions)
 *
 * tfjs-ssd-mobilenetv1.vec: face-api's SsdMobilenetv1 on astronaut.png at
 *   512 (the image is already 512 x 512: no padding, and the resize is the
 *   identity), input x/127.5 - 1.  5118 anchors, in the order head (6),
 *   row, col, anchor.
 *
 *   ssd_tensor image= rgb_sha256= input=... tensor=NAME shape= sum= sumabs=
 *       sumsq= min= max= n= samples=256   then 256 indices, 256 values, for
 *       NAME = box_encoding [5118,4] (ty,tx,th,tw, as the BoxEncodingPredictor
 *       heads output them, concatenated), class_logits [5118,3] (no sigmoid),
 *       boxes [5118,4] (decoded: ymin,xmin,ymax,xmax relative to the 512
 *       input, as face-api's forward() returns them) and scores [5118]
 *       (sigmoid of class logit 1)
 *   ssd_top image= k=   then k x 16 floats for the k anchors of highest
 *       score, in that order: anchor index, box_encoding (4), class_logits
 *       (3), anchor [ymin,xmin,ymax,xmax] from Output/extra_dim (4), decoded
 *       box (4)
 *   ssd_det image= min_conf= iou=0.5 max=100 n=   then n x (x, y, w, h,
 *       score): face-api's locateFaces (boxes clipped to the image, pixels)
 *
 * tfjs-nsfwjs.vec: nsfwjs 4.4.0 (NSFWJS.infer, what classify() sorts).
 *   Preprocessing, read from dist/cjs/core.js: the H x W x 3 image as
 *   float32, divided by 255 (float32), then, unless it is already size x
 *   size, tf.image.resizeBilinear to size x size with alignCorners=true
 *   (halfPixelCenters=false: ratio (in-1)/(out-1)), no padding, aspect not
 *   kept; size 224 for MobileNetV2, 299 for InceptionV3.  Outputs are
 *   softmax probabilities in class index order Drawing, Hentai, Neutral,
 *   Porn, Sexy.
 *
 *   nsfw model=mobilenet_v2|inception_v3 image= rgb_sha256= size= input=...
 *       top= n=5   then the 5 probabilities
 *   nsfw_layer model= image= layer= shape=1,H,W,C layout=nhwc sum= ... n=
 *       samples=256   then 256 indices and values of that layer's output
 *       (block_13_expand_relu for MobileNet v2, mixed5 for Inception v3)
 */
'use strict';

const fs = require('fs');
const path = require('path');
const { fileHandler } = require(path.join(__dirname, '../../examples/pretrained/layers-model.js'));
const crypto = require('crypto');
const { execFileSync } = require('child_process');

const HERE = __dirname;
const NPM = path.resolve(process.env.CNN_PRETRAINED_NPM ||
                         path.join(HERE, '../../examples/pretrained/npm'));
const PYTHON = '/usr/bin/python3';
const SKIMAGE = '/usr/lib/python3/dist-packages/skimage/data';
const IMAGES = {
  'astronaut.png': `${SKIMAGE}/astronaut.png`,
  'chelsea.png': `${SKIMAGE}/chelsea.png`,
  'coffee.png': `${SKIMAGE}/coffee.png`,
  'person.jpg': '/usr/share/darknet/data/person.jpg',
};
const SAMPLES = 256;

function die(msg) {
  process.stderr.write(`make-tfjs: ${msg}\n`);
  process.exit(1);
}

for (const f of ['node_modules/@tensorflow/tfjs/package.json',
                 'face-api/package/dist/face-api.node-wasm.js',
                 'nsfwjs/package/dist/cjs/index.js',
                 'nsfwjs/models/mobilenet_v2/model.json']) {
  if (!fs.existsSync(path.join(NPM, f)))
    die(`${NPM}/${f} is missing: run make -C examples/pretrained weights nsfwjs`);
}

// tfjs, face-api and nsfwjs all resolve @tensorflow/tfjs to
// npm/node_modules (a link to npm/node/node_modules): one instance.
const tf = require(path.join(NPM, 'node_modules/@tensorflow/tfjs'));
const faceapi = require(path.join(NPM, 'face-api/package/dist/face-api.node-wasm.js'));
const nsfwjs = require(path.join(NPM, 'nsfwjs/package/dist/cjs/index.js'));
const MODELS = path.join(NPM, 'face-api/package/model');

// ------------------------------------------------------------- utilities

const sha256 = (buf) => crypto.createHash('sha256').update(buf).digest('hex');
const f32bytes = (a) => {
  const b = Buffer.alloc(a.length * 4);
  for (let i = 0; i < a.length; i++) b.writeFloatLE(a[i], i * 4);
  return b;
};
const num = (x) => {
  if (!Number.isFinite(x)) die(`non-finite value ${x}`);
  return String(x);
};

function stats(a) {
  let sum = 0, sumabs = 0, sumsq = 0, min = Infinity, max = -Infinity;
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (!Number.isFinite(v)) die('non-finite value in a tensor');
    sum += v; sumabs += Math.abs(v); sumsq += v * v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return [['sum', num(sum)], ['sumabs', num(sumabs)], ['sumsq', num(sumsq)],
          ['min', num(min)], ['max', num(max)], ['n', a.length]];
}

function sampleIdx(n, k = SAMPLES) {
  const idx = [];
  for (let i = 0; i < k; i++) idx.push(Math.floor(((2 * i + 1) * n) / (2 * k)));
  return idx;
}

function sample(a) {
  const idx = sampleIdx(a.length);
  return [idx, idx.map((i) => a[i])];
}

// The fields that describe a network input tensor.
function inputFields(t) {
  const d = t.dataSync();
  let s = 0, sa = 0;
  for (let i = 0; i < d.length; i++) { s += d[i]; sa += Math.abs(d[i]); }
  return [['input', t.shape.join(',')], ['input_sum', num(s)], ['input_sumabs', num(sa)],
          ['input_f32_sha256', sha256(f32bytes(d))]];
}

function maxDiff(a, b, what, tol, relative = false) {
  if (a.length !== b.length) die(`${what}: ${a.length} values against ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]) / (relative ? Math.max(1, Math.abs(a[i])) : 1);
    if (!(d <= m)) m = d; // NaN counts
  }
  if (!(m <= tol)) die(`${what}: the library and the graph written here differ by ${m}`);
  return m;
}

class VecFile {
  constructor(name) { this.name = name; this.parts = []; this.records = 0; }

  record(kind, fields, ...arrays) {
    const text = [kind, ...fields.map(([k, v]) => `${k}=${v}`)].join(' ');
    if (/[\n\r]/.test(text) || fields.some(([k, v]) => /\s/.test(`${k}${v}`)))
      die(`bad header ${text}`);
    this.parts.push(Buffer.from(`${text}\n`));
    for (const a of arrays) this.parts.push(f32bytes(a));
    this.records++;
  }

  save() {
    const file = path.join(HERE, this.name);
    const tmp = `${file}.tmp${process.pid}`;
    const data = Buffer.concat(this.parts);
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
    console.log(`${this.name}: ${this.records} records, ${data.length} bytes`);
  }
}

// ------------------------------------------------------------- the images

const PY_DECODE = `
import sys, PIL, PIL.features
from PIL import Image
im = Image.open(sys.argv[1])
fmt = im.format
if im.mode != 'RGB':
    sys.exit('%s: mode %s, not RGB' % (sys.argv[1], im.mode))
data = im.tobytes()
sys.stdout.buffer.write(('%d %d %s Pillow-%s libjpeg-turbo-%s\\n' % (im.width, im.height, fmt,
    PIL.__version__, PIL.features.version('libjpeg_turbo'))).encode())
sys.stdout.buffer.write(data)
`;

const images = {}; // by name, in the order first used

function loadImage(name) {
  if (images[name]) return images[name];
  const file = IMAGES[name];
  const out = execFileSync(PYTHON, ['-c', PY_DECODE, file], { maxBuffer: 1 << 28 });
  const nl = out.indexOf(10);
  const [w, h, fmt, pil, jpeg] = out.subarray(0, nl).toString().split(' ');
  const data = new Uint8Array(out.subarray(nl + 1));
  const W = Number(w), H = Number(h);
  if (data.length !== W * H * 3) die(`${file}: ${data.length} bytes of pixels for ${W}x${H}`);
  const img = { name, file, w: W, h: H, data, rgbSha: sha256(data) };
  img.tensor = tf.tensor3d(data, [H, W, 3], 'int32');
  images[name] = img;
  img.note = [`${name}  ${file}`, `  file sha256 ${sha256(fs.readFileSync(file))}`,
    `  ${fmt} ${W}x${H}, decoded to RGB by PIL (${pil}${fmt === 'JPEG' ? `, ${jpeg}` : ''})`,
    `  pixels (${H}x${W}x3 bytes) sha256 ${img.rgbSha}`];
  img.crops = new Set();
  return img;
}

function crop(img, [x, y, w, h]) {
  if (x < 0 || y < 0 || x + w > img.w || y + h > img.h) die(`crop ${[x, y, w, h]} outside ${img.name}`);
  const out = new Uint8Array(w * h * 3);
  for (let r = 0; r < h; r++)
    out.set(img.data.subarray(((y + r) * img.w + x) * 3, ((y + r) * img.w + x + w) * 3), r * w * 3);
  const sha = sha256(out);
  img.crops.add(`  crop x,y,w,h=${[x, y, w, h].join(',')}: pixels (${h}x${w}x3) sha256 ${sha}`);
  return { box: [x, y, w, h], data: out, sha, tensor: tf.tensor3d(out, [h, w, 3], 'int32') };
}

// ------------------------------------------------- face-api's weights, here

function loadWeights(model) {
  const manifest = JSON.parse(fs.readFileSync(path.join(MODELS, `${model}-weights_manifest.json`)));
  const bufs = [], specs = [];
  for (const group of manifest) {
    for (const p of group.paths) bufs.push(fs.readFileSync(path.join(MODELS, p)));
    specs.push(...group.weights);
  }
  const all = Buffer.concat(bufs);
  const ab = all.buffer.slice(all.byteOffset, all.byteOffset + all.length);
  return tf.io.decodeWeights(ab, specs);
}

// Pad to a square with zeros (at the bottom/right, or centred as face-api's
// padToSquare: round(d/2) after, the rest before), then the legacy resize.
function padResize(t3, size, centred) {
  return tf.tidy(() => {
    const [h, w] = t3.shape;
    let x = tf.cast(t3, 'float32');
    if (h !== w) {
      const d = Math.abs(h - w);
      const after = centred ? Math.round(d / 2) : d, before = d - after;
      x = h > w ? tf.pad(x, [[0, 0], [before, after], [0, 0]]) : tf.pad(x, [[before, after], [0, 0], [0, 0]]);
    }
    x = tf.expandDims(x, 0);
    if (x.shape[1] !== size) x = tf.image.resizeBilinear(x, [size, size], false, false);
    return x;
  });
}

const meanNorm = (x, mean) => tf.tidy(() => tf.div(tf.sub(x, tf.tensor1d(mean)), tf.scalar(255)));

// Checks our padResize against face-api's own NetInput.toBatchTensor.
async function checkBatchTensor(t3, size, centred, x) {
  const ni = await faceapi.toNetInput(t3);
  const theirs = ni.toBatchTensor(size, centred);
  maxDiff(theirs.dataSync(), x.dataSync(), 'toBatchTensor', 0);
  theirs.dispose();
}

// ------------------------------------------------------- tiny_face_detector

const TINY_ANCHORS = [[1.603231, 2.094468], [6.041143, 7.080126], [2.882459, 3.518061],
                      [4.266906, 5.178857], [9.041765, 10.66308]];

function tinyGraph(x, W) {
  return tf.tidy(() => {
    const leaky = (t) => { const m = tf.mul(t, tf.scalar(0.10000000149011612)); return tf.add(tf.relu(tf.sub(t, m)), m); };
    let o = leaky(tf.add(tf.conv2d(x, W['conv0/filters'], 1, 'valid'), W['conv0/bias']));
    o = tf.maxPool(o, 2, 2, 'same');
    for (let i = 1; i <= 5; i++) {
      o = tf.pad(o, [[0, 0], [1, 1], [1, 1], [0, 0]]);
      o = tf.depthwiseConv2d(o, W[`conv${i}/depthwise_filter`], 1, 'valid');
      o = tf.conv2d(o, W[`conv${i}/pointwise_filter`], 1, 'valid');
      o = leaky(tf.add(o, W[`conv${i}/bias`]));
      o = tf.maxPool(o, 2, i < 5 ? 2 : 1, 'same');
    }
    return tf.add(tf.conv2d(o, W['conv8/filters'], 1, 'valid'), W['conv8/bias']);
  });
}

const sigmoid = (v) => 1 / (1 + Math.exp(-v));

function iou(a, b) { // [x0, y0, x1, y1]
  const w = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const h = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = w * h;
  return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter);
}

// faceapi.md's decode and NMS, written again: detections in pixels.
function tinyDecode(raw, g, img, size, thr) {
  const scale = size / Math.max(img.w, img.h);
  const cfx = size / Math.round(img.w * scale), cfy = size / Math.round(img.h * scale);
  const cand = [];
  for (let row = 0; row < g; row++)
    for (let col = 0; col < g; col++)
      for (let a = 0; a < 5; a++) {
        const o = ((row * g + col) * 5 + a) * 5;
        const score = sigmoid(raw[o + 4]);
        if (!(score > thr)) continue;
        const cx = ((col + sigmoid(raw[o])) / g) * cfx, cy = ((row + sigmoid(raw[o + 1])) / g) * cfy;
        const w = ((Math.exp(raw[o + 2]) * TINY_ANCHORS[a][0]) / g) * cfx;
        const h = ((Math.exp(raw[o + 3]) * TINY_ANCHORS[a][1]) / g) * cfy;
        cand.push({ score, box: [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2] });
      }
  const order = cand.map((c, i) => i).sort((i, j) => cand[j].score - cand[i].score || j - i);
  const keep = [];
  while (order.length) {
    const best = order.shift();
    keep.push(best);
    for (let k = order.length - 1; k >= 0; k--)
      if (iou(cand[best].box, cand[order[k]].box) > 0.4) order.splice(k, 1);
  }
  return {
    candidates: cand.length,
    dets: keep.map((i) => {
      const [x0, y0, x1, y1] = cand[i].box;
      return [x0 * img.w, y0 * img.h, (x1 - x0) * img.w, (y1 - y0) * img.h, cand[i].score];
    }),
  };
}

async function tinyFace(vf, W, name, size) {
  const img = loadImage(name);
  const net = faceapi.nets.tinyFaceDetector;
  const out = await net.forward(img.tensor, size);
  const raw = out.dataSync();
  const g = out.shape[1];
  const x0 = padResize(img.tensor, size, false);
  await checkBatchTensor(img.tensor, size, false, x0);
  const x = meanNorm(x0, [117.001, 114.697, 97.404]);
  const mine = tinyGraph(x, W);
  const d = maxDiff(raw, mine.dataSync(), `tiny_face_detector ${name}`, 1e-6);
  vf.record('tinyface', [['image', name], ['rgb_sha256', img.rgbSha], ['w', img.w], ['h', img.h],
    ['size', size], ...inputFields(x), ['out', out.shape.slice(1).join(',')], ['layout', 'nhwc']], raw);
  const summary = [];
  for (const thr of [0.5, 0.01]) {
    const faces = await net.locateFaces(img.tensor, new faceapi.TinyFaceDetectorOptions({ inputSize: size, scoreThreshold: thr }));
    const dets = faces.map((f) => [f.box.x, f.box.y, f.box.width, f.box.height, f.score]);
    const ours = tinyDecode(raw, g, img, size, thr);
    if (ours.dets.length !== dets.length) die(`tiny ${name} ${thr}: ${dets.length} detections, ours ${ours.dets.length}`);
    maxDiff(dets.flat(), ours.dets.flat(), `tiny detections ${name} ${thr}`, 1e-9, true);
    vf.record('tinyface_det', [['image', name], ['size', size], ['score_thr', thr], ['iou', 0.4],
      ['candidates', ours.candidates], ['n', dets.length]], dets.flat());
    summary.push(`thr ${thr}: ${ours.candidates} -> ${dets.length}` +
      (dets.length ? ` best ${dets[0].slice(0, 4).map((v) => v.toFixed(2)).join(',')} score ${dets[0][4].toFixed(5)}` : ''));
  }
  console.log(`  tiny_face_detector ${name} @${size}: graph diff ${d}; ${summary.join('; ')}`);
  tf.dispose([out, x0, x, mine]);
}

// --------------------------------------------------------- face_recognition

function recGraph(x, W) {
  return tf.tidy(() => {
    const conv = (t, p, stride, pad, relu) => {
      let o = tf.add(tf.conv2d(t, W[`${p}/conv/filters`], stride, pad), W[`${p}/conv/bias`]);
      o = tf.add(tf.mul(o, W[`${p}/scale/weights`]), W[`${p}/scale/biases`]);
      return relu ? tf.relu(o) : o;
    };
    const residual = (t, p) => tf.relu(tf.add(conv(conv(t, `${p}/conv1`, 1, 'same', true), `${p}/conv2`, 1, 'same', false), t));
    const residualDown = (t, p) => {
      let main = conv(conv(t, `${p}/conv1`, 2, 'valid', true), `${p}/conv2`, 1, 'same', false);
      let short = tf.avgPool(t, 2, 2, 'valid');
      const dh = short.shape[1] - main.shape[1], dw = short.shape[2] - main.shape[2];
      if (dh || dw) main = tf.pad(main, [[0, 0], [0, dh], [0, dw], [0, 0]]);
      const dc = main.shape[3] - short.shape[3];
      if (dc) short = tf.pad(short, [[0, 0], [0, 0], [0, 0], [0, dc]]);
      return tf.relu(tf.add(short, main));
    };
    let o = conv(x, 'conv32_down', 2, 'valid', true);
    o = tf.maxPool(o, 3, 2, 'valid');
    for (const p of ['conv32_1', 'conv32_2', 'conv32_3']) o = residual(o, p);
    o = residualDown(o, 'conv64_down');
    for (const p of ['conv64_1', 'conv64_2', 'conv64_3']) o = residual(o, p);
    o = residualDown(o, 'conv128_down');
    for (const p of ['conv128_1', 'conv128_2']) o = residual(o, p);
    o = residualDown(o, 'conv256_down');
    for (const p of ['conv256_1', 'conv256_2']) o = residual(o, p);
    o = residualDown(o, 'conv256_down_out');
    return tf.matMul(tf.mean(o, [1, 2]), W.fc);
  });
}

const REC_MEAN = [122.782, 117.001, 104.298];

async function faceRec(vf, W, name, box, kind = 'facerec', extra = []) {
  const img = loadImage(name);
  const c = crop(img, box);
  const desc = await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(c.tensor);
  const x0 = padResize(c.tensor, 150, true);
  await checkBatchTensor(c.tensor, 150, true, x0);
  const x = meanNorm(x0, REC_MEAN);
  const mine = recGraph(x, W);
  const d = maxDiff(desc, mine.dataSync(), `face_recognition ${name} ${box}`, 1e-6);
  const norm = Math.hypot(...desc);
  vf.record(kind, [['image', name], ['rgb_sha256', img.rgbSha], ...extra, ['crop', box.join(',')],
    ['crop_sha256', c.sha], ...inputFields(x), ['norm', num(norm)], ['n', desc.length]], desc);
  console.log(`  face_recognition ${name} crop ${box}: graph diff ${d}; |d| ${norm.toFixed(4)}`);
  tf.dispose([x0, x, mine, c.tensor]);
  return desc;
}

// ---------------------------------------------------- face_landmark_68_tiny

function lmGraph(x, W) {
  return tf.tidy(() => {
    const sep = (t, p, s) => tf.add(tf.conv2d(tf.depthwiseConv2d(t, W[`${p}/depthwise_filter`], s, 'same'),
      W[`${p}/pointwise_filter`], 1, 'same'), W[`${p}/bias`]);
    const dense = (t, b, first) => {
      const out1 = tf.relu(first ? tf.add(tf.conv2d(t, W[`${b}/conv0/filters`], 2, 'same'), W[`${b}/conv0/bias`])
        : sep(t, `${b}/conv0`, 2));
      const out2 = sep(out1, `${b}/conv1`, 1);
      const out3 = sep(tf.relu(tf.add(out1, out2)), `${b}/conv2`, 1);
      return tf.relu(tf.add(out1, tf.add(out2, out3)));
    };
    let o = dense(x, 'dense0', true);
    o = dense(o, 'dense1', false);
    o = dense(o, 'dense2', false);
    o = tf.avgPool(o, 14, 2, 'valid');
    return tf.add(tf.matMul(tf.reshape(o, [1, -1]), W['fc/weights']), W['fc/bias']);
  });
}

async function landmarks(vf, W, name, box) {
  const img = loadImage(name);
  const c = crop(img, box);
  const net = faceapi.nets.faceLandmark68TinyNet;
  const ni = await faceapi.toNetInput(c.tensor);
  const rawT = net.runNet(ni);
  const raw = rawT.dataSync();
  const lm = await net.detectLandmarks(c.tensor);
  const pos = lm.positions.flatMap((p) => [p.x, p.y]);
  const x0 = padResize(c.tensor, 112, true);
  await checkBatchTensor(c.tensor, 112, true, x0);
  const x = meanNorm(x0, REC_MEAN);
  const mine = lmGraph(x, W);
  const d = maxDiff(raw, mine.dataSync(), `face_landmark_68_tiny ${name} ${box}`, 1e-6);
  // faceapi.md's decoding of the raw outputs, written again
  const [w, h] = [box[2], box[3]];
  const ws = (w * 112) / Math.max(w, h), hs = (h * 112) / Math.max(w, h);
  const padX = ws < hs ? (hs - ws) / 2 : 0, padY = hs < ws ? (ws - hs) / 2 : 0;
  const ours = Array.from(raw, (v, i) => (i % 2 ? ((v * 112 - padY) / hs) * h : ((v * 112 - padX) / ws) * w));
  maxDiff(pos, ours, `landmark decoding ${name} ${box}`, 1e-5, true);
  vf.record('landmarks68tiny', [['image', name], ['rgb_sha256', img.rgbSha], ['crop', box.join(',')],
    ['crop_sha256', c.sha], ...inputFields(x), ['n', raw.length]], raw, pos);
  console.log(`  face_landmark_68_tiny ${name} crop ${box}: graph diff ${d}; point 30 (nose tip) at ` +
    `${pos[60].toFixed(2)},${pos[61].toFixed(2)} of the crop`);
  tf.dispose([rawT, x0, x, mine, c.tensor]);
}

// ---------------------------------------------------------- ssd_mobilenetv1

function ssdGraph(x, W) {
  return tf.tidy(() => {
    const relu6 = (t) => tf.clipByValue(t, 0, 6);
    const pw = (t, p, s) => relu6(tf.add(tf.conv2d(t, W[`${p}/weights`], s, 'same'), W[`${p}/convolution_bn_offset`]));
    const dw = (t, p, s) => relu6(tf.batchNorm(tf.depthwiseConv2d(t, W[`${p}/depthwise_weights`], s, 'same'),
      W[`${p}/BatchNorm/moving_mean`], W[`${p}/BatchNorm/moving_variance`], W[`${p}/BatchNorm/beta`],
      W[`${p}/BatchNorm/gamma`], 0.0010000000474974513));
    let o = pw(x, 'MobilenetV1/Conv2d_0_pointwise', 2);
    let c11;
    for (let i = 1; i <= 13; i++) {
      o = dw(o, `MobilenetV1/Conv2d_${i}_depthwise`, [2, 4, 6, 12].includes(i) ? 2 : 1);
      o = pw(o, `MobilenetV1/Conv2d_${i}_pointwise`, 1);
      if (i === 11) c11 = o;
    }
    const feats = [c11, o];
    let e = o;
    for (let i = 0; i < 8; i++) {
      e = pw(e, `Prediction/Conv2d_${i}_pointwise`, i % 2 ? 2 : 1);
      if (i % 2) feats.push(e);
    }
    const head = (t, i, kind, k) => tf.reshape(tf.add(tf.conv2d(t, W[`Prediction/BoxPredictor_${i}/${kind}/weights`], 1, 'same'),
      W[`Prediction/BoxPredictor_${i}/${kind}/biases`]), [1, -1, k]);
    const enc = tf.concat(feats.map((t, i) => head(t, i, 'BoxEncodingPredictor', 4)), 1);
    const logits = tf.concat(feats.map((t, i) => head(t, i, 'ClassPredictor', 3)), 1);
    return [enc, logits];
  });
}

async function ssd(vf, W, name) {
  const img = loadImage(name);
  const net = faceapi.nets.ssdMobilenetv1;
  const fwd = await net.forward(img.tensor);
  const boxes = fwd.boxes[0].dataSync(), scores = fwd.scores[0].dataSync();
  const x0 = padResize(img.tensor, 512, false);
  await checkBatchTensor(img.tensor, 512, false, x0);
  const x = tf.sub(tf.div(x0, tf.scalar(127.5)), tf.scalar(1));
  const [encT, logT] = ssdGraph(x, W);
  const enc = encT.dataSync(), logits = logT.dataSync();
  const anchors = W['Output/extra_dim'].dataSync();
  const n = anchors.length / 4;
  // faceapi.md's decode, written again (in double; the library in float32)
  const ourBoxes = new Float64Array(n * 4), ourScores = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const [y0, x0a, y1, x1] = anchors.subarray(i * 4, i * 4 + 4);
    const ha = y1 - y0, wa = x1 - x0a, ya = y0 + ha / 2, xa = x0a + wa / 2;
    const [ty, tx, th, tw] = enc.subarray(i * 4, i * 4 + 4);
    const yc = (ty / 10) * ha + ya, xc = (tx / 10) * wa + xa;
    const hh = Math.exp(th / 5) * ha / 2, hw = Math.exp(tw / 5) * wa / 2;
    ourBoxes.set([yc - hh, xc - hw, yc + hh, xc + hw], i * 4);
    ourScores[i] = sigmoid(logits[i * 3 + 1]);
  }
  const db = maxDiff(boxes, ourBoxes, 'ssd boxes', 1e-5);
  const ds = maxDiff(scores, ourScores, 'ssd scores', 1e-6);
  const base = [['image', name], ['rgb_sha256', img.rgbSha], ...inputFields(x)];
  for (const [tname, t, shape] of [['box_encoding', enc, [n, 4]], ['class_logits', logits, [n, 3]],
    ['boxes', boxes, [n, 4]], ['scores', scores, [n]]]) {
    const [idx, vals] = sample(t);
    vf.record('ssd_tensor', [...base, ['tensor', tname], ['shape', shape.join(',')], ...stats(t),
      ['samples', idx.length]], idx, vals);
  }
  const K = 32;
  const top = Array.from(scores, (s, i) => i).sort((i, j) => scores[j] - scores[i] || i - j).slice(0, K);
  vf.record('ssd_top', [['image', name], ['k', K]], top.flatMap((i) => [i, ...enc.subarray(i * 4, i * 4 + 4),
    ...logits.subarray(i * 3, i * 3 + 3), ...anchors.subarray(i * 4, i * 4 + 4), ...boxes.subarray(i * 4, i * 4 + 4)]));
  const summary = [];
  for (const minConfidence of [0.5, 0.05]) {
    const faces = await net.locateFaces(img.tensor, new faceapi.SsdMobilenetv1Options({ minConfidence }));
    const dets = faces.map((f) => [f.box.x, f.box.y, f.box.width, f.box.height, f.score]);
    vf.record('ssd_det', [['image', name], ['min_conf', minConfidence], ['iou', 0.5], ['max', 100],
      ['n', dets.length]], dets.flat());
    summary.push(`min_conf ${minConfidence}: ${dets.length}` +
      (dets.length ? ` best ${dets[0].slice(0, 4).map((v) => v.toFixed(2)).join(',')} score ${dets[0][4].toFixed(5)}` : ''));
  }
  console.log(`  ssd_mobilenetv1 ${name}: graph diff boxes ${db} scores ${ds}; ${summary.join('; ')}`);
  tf.dispose([...fwd.boxes, ...fwd.scores, x0, x, encT, logT]);
}

// ------------------------------------------------------------------ nsfwjs

const NSFW_CLASSES = ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy'];

// The unwrapped model.json and .bin shards, read as files.

async function nsfw(vf, model, libName, size, layer, names) {
  const lib = await nsfwjs.load(libName);
  if (lib.options.size !== size) die(`nsfwjs ${libName}: size ${lib.options.size}`);
  const mine = await tf.loadLayersModel(fileHandler(path.join(NPM, 'nsfwjs/models', model)));
  const mineLayer = tf.model({ inputs: mine.inputs, outputs: mine.getLayer(layer).output });
  for (const name of names) {
    const img = loadImage(name);
    const pT = lib.infer(img.tensor);
    const p = pT.dataSync();
    const top = await lib.classify(img.tensor, 1);
    const hT = lib.infer(img.tensor, layer);
    const hid = hT.dataSync();
    const x = tf.tidy(() => {
      let t = tf.div(tf.cast(img.tensor, 'float32'), tf.scalar(255));
      if (img.h !== size || img.w !== size) t = tf.image.resizeBilinear(t, [size, size], true);
      return tf.expandDims(t, 0);
    });
    const q = mine.predict(x), hq = mineLayer.predict(x);
    const d = maxDiff(p, q.dataSync(), `nsfwjs ${model} ${name}`, 1e-6);
    const dh = maxDiff(hid, hq.dataSync(), `nsfwjs ${model} ${name} ${layer}`, 1e-5, true);
    const best = p.indexOf(Math.max(...p));
    if (top[0].className !== NSFW_CLASSES[best]) die(`nsfwjs classify: ${top[0].className}`);
    vf.record('nsfw', [['model', model], ['image', name], ['rgb_sha256', img.rgbSha], ['size', size],
      ...inputFields(x), ['top', NSFW_CLASSES[best]], ['n', p.length]], p);
    const [idx, vals] = sample(hid);
    vf.record('nsfw_layer', [['model', model], ['image', name], ['layer', layer], ['shape', hT.shape.join(',')],
      ['layout', 'nhwc'], ...stats(hid), ['samples', idx.length]], idx, vals);
    console.log(`  nsfwjs ${model} ${name}: graph diff ${d}, ${layer} ${dh}; ` +
      Array.from(p, (v, i) => `${NSFW_CLASSES[i]} ${v.toFixed(5)}`).join(' '));
    tf.dispose([pT, hT, x, q, hq]);
  }
  // (not lib.dispose(): in nsfwjs 4.4.0 it disposes the layers its
  // intermediate models share with the model, then fails on the model)
  mine.dispose();
}

// -------------------------------------------------------------------- main

async function main() {
  await tf.setBackend('cpu');
  await tf.ready();
  if (tf.getBackend() !== 'cpu' || tf.version.tfjs !== '4.22.0' || faceapi.version !== '1.7.15')
    die(`want tfjs 4.22.0 on cpu and face-api 1.7.15, have ${tf.version.tfjs} ${tf.getBackend()} ${faceapi.version}`);
  const silence = console.info;
  console.info = () => {}; // nsfwjs's "You're using the model" banner
  for (const net of ['tinyFaceDetector', 'faceRecognitionNet', 'faceLandmark68TinyNet', 'ssdMobilenetv1'])
    await faceapi.nets[net].loadFromDisk(MODELS);

  console.log('tiny_face_detector');
  let vf = new VecFile('tfjs-tiny-face.vec');
  let W = loadWeights('tiny_face_detector_model');
  await tinyFace(vf, W, 'astronaut.png', 416);
  await tinyFace(vf, W, 'person.jpg', 416);
  await tinyFace(vf, W, 'astronaut.png', 320);
  vf.save();
  tf.dispose(Object.values(W));

  console.log('face_recognition');
  vf = new VecFile('tfjs-face-recognition.vec');
  W = loadWeights('face_recognition_model');
  const descs = [];
  descs.push(await faceRec(vf, W, 'astronaut.png', [146, 56, 150, 150])); // no resize
  descs.push(await faceRec(vf, W, 'astronaut.png', [161, 71, 120, 120])); // resized to 150
  descs.push(await faceRec(vf, W, 'astronaut.png', [163, 75, 116, 110])); // centred pad, resize
  // face-api's own whole pipeline, and the crops it chose
  const astro = loadImage('astronaut.png');
  const full = await faceapi.detectAllFaces(astro.tensor, new faceapi.TinyFaceDetectorOptions())
    .withFaceLandmarks(true).withFaceDescriptors();
  if (full.length !== 1) die(`the pipeline found ${full.length} faces on astronaut.png`);
  const det = full[0].detection.box;
  const lmBox = det.clipAtImageBorders(astro.w, astro.h);
  const al = full[0].landmarks.align(null, { useDlibAlignment: true }).clipAtImageBorders(astro.w, astro.h);
  const alBox = [al.x, al.y, al.width, al.height];
  const pd = await faceRec(vf, W, 'astronaut.png', alBox, 'facerec_pipeline',
    [['det', [det.x, det.y, det.width, det.height].map(num).join(',')],
     ['landmark_crop', [lmBox.x, lmBox.y, lmBox.width, lmBox.height].join(',')]]);
  maxDiff(full[0].descriptor, pd, 'pipeline descriptor', 0);
  descs.push(pd);
  console.log('  distances to the pipeline descriptor: ' +
    descs.slice(0, 3).map((dd) => Math.hypot(...dd.map((v, i) => v - pd[i])).toFixed(4)).join(' '));
  vf.save();
  tf.dispose(Object.values(W));

  console.log('face_landmark_68_tiny');
  vf = new VecFile('tfjs-face-landmark68-tiny.vec');
  W = loadWeights('face_landmark_68_tiny_model');
  await landmarks(vf, W, 'astronaut.png', [165, 76, 112, 112]); // no resize
  await landmarks(vf, W, 'astronaut.png', [163, 75, 116, 110]); // centred pad, resize
  vf.save();
  tf.dispose(Object.values(W));

  console.log('ssd_mobilenetv1');
  vf = new VecFile('tfjs-ssd-mobilenetv1.vec');
  W = loadWeights('ssd_mobilenetv1_model');
  await ssd(vf, W, 'astronaut.png');
  vf.save();
  tf.dispose(Object.values(W));

  console.log('nsfwjs');
  vf = new VecFile('tfjs-nsfwjs.vec');
  const photos = ['astronaut.png', 'chelsea.png', 'coffee.png'];
  await nsfw(vf, 'mobilenet_v2', 'MobileNetV2', 224, 'block_13_expand_relu', photos);
  await nsfw(vf, 'inception_v3', 'InceptionV3', 299, 'mixed5', photos);
  vf.save();
  console.info = silence;

  const note = path.join(HERE, 'tfjs-inputs.txt');
  fs.writeFileSync(`${note}.tmp`, '# The inputs of the tfjs-*.vec reference files (tests/vectors/make-tfjs.js):\n' +
    '# file, decoder, and the sha256 of the decoded 8-bit RGB pixels (rows top down,\n' +
    '# R,G,B interleaved) and of the crops cut from them.\n' +
    Object.values(images).map((i) => [...i.note, ...i.crops].join('\n')).join('\n') + '\n');
  fs.renameSync(`${note}.tmp`, note);
  console.log('tfjs-inputs.txt');
}

main().catch((e) => die(e && e.stack ? e.stack : String(e)));
