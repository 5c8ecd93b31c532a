#!/usr/bin/env node
/*
 * pretrained_tfjs.js - TensorFlow.js's speed on the pretrained networks
 * that cnn-import brings in, for bench/run-pretrained: the median ms of
 * one forward pass of one image (face-api's tiny face detector at 416,
 * face_recognition at 150, nsfwjs's Inception v3 at 299) on the wasm backend (@tensorflow/
 * tfjs-backend-wasm 4.22.0, the fastest that installs here; SIMD, one
 * thread as Node runs it), over a few seconds, on a fixed input.
 *
 *   node bench/pretrained_tfjs.js NPM_DIR [SECONDS]
 *
 * NPM_DIR is what make -C examples/pretrained weights made (npm/).
 */
const fs = require('fs');
const path = require('path');
const { fileHandler } = require(path.join(__dirname, '../examples/pretrained/layers-model.js'));

const npm = process.argv[2], seconds = Number(process.argv[3] || 3);
const tf = require(path.join(npm, 'node_modules/@tensorflow/tfjs'));
require(path.join(npm, 'node_modules/@tensorflow/tfjs-backend-wasm'));
const faceapi = require(path.join(npm, 'face-api/package/dist/face-api.node-wasm.js'));

async function time(name, run) {
  const t = [];
  (await run()).dispose(); // warm up: kernels compiled, weights uploaded
  for (const start = Date.now(); t.length < 5 || Date.now() - start < seconds * 1000;) {
    const t0 = process.hrtime.bigint();
    const out = await run();
    out.dataSync();
    out.dispose();
    t.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  t.sort((a, b) => a - b);
  console.log(`${name} ms ${t[t.length >> 1].toFixed(3)} fastest ${t[0].toFixed(3)} runs ${t.length}`);
}


async function main() {
  await tf.setBackend('wasm');
  await tf.ready();
  const models = path.join(npm, 'face-api/package/model');
  await faceapi.nets.tinyFaceDetector.loadFromDisk(models);
  await faceapi.nets.faceRecognitionNet.loadFromDisk(models);
  const img416 = tf.randomUniform([416, 416, 3], 0, 255, 'int32', 7);
  const img150 = tf.randomUniform([150, 150, 3], 0, 255, 'int32', 7);
  console.log(`backend ${tf.getBackend()} tfjs ${tf.version.tfjs}`);
  await time('tiny_face_detector', () => faceapi.nets.tinyFaceDetector.forward(img416, 416));
  await time('face_recognition', () => faceapi.nets.faceRecognitionNet.forward(img150));
  const inception = await tf.loadLayersModel(fileHandler(path.join(npm, 'nsfwjs/models/inception_v3')));
  const img299 = tf.randomUniform([1, 299, 299, 3], 0, 1, 'float32', 7);
  await time('inception_v3', () => inception.predict(img299));
}

main().catch((e) => { console.error(e); process.exit(1); });
