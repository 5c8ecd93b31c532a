#!/usr/bin/env node
// unwrap-nsfwjs.js SRC OUT: one of nsfwjs 4.4.0's models, as the package
// ships it (SRC = dist/models/NAME/: model.min.js, group1-shardIofN.min.js),
// written as TensorFlow.js converter output in OUT: model.json and the
// binary shards group1-shardIofN.bin.
//
// The wrapping (nsfwjs's scripts/bundle-model.mjs; read back by
// dist/cjs/core.js: getModelJson, getWeightData, JSONHandler) is a
// browserify UMD module per file.  model.min.js exports the model.json
// object itself; a shard exports the shard's bytes as one base64 string,
// which JSONHandler decodes (Buffer.from(s, "base64")) and concatenates in
// weightsManifest path order.  The modules are evaluated here in an empty
// vm context (no require, no process: only module.exports comes back).
//
// model.json is the exported object with two changes: the manifest's paths
// ("group1-shard1of1", as old converters named them) get ".bin", the name
// the files have here, and a layers model without a "format" field gets
// "format": "layers-model", as the converter writes for Keras models.  The
// bytes of each shard are checked against the manifest: their total must be
// what the weight specs take (prod(shape) bytes for uint8-quantized
// weights, 2 for uint16/float16, 4 otherwise).  Files are written beside
// their names and renamed when whole.
"use strict";
const fs = require("fs");
const path = require("path");
const vm = require("vm");

function die(msg) {
  process.stderr.write(`unwrap-nsfwjs: ${msg}\n`);
  process.exit(1);
}

function unwrap(file) {
  const src = fs.readFileSync(file, "utf8");
  const sandbox = { module: { exports: {} } };
  sandbox.exports = sandbox.module.exports;
  vm.runInNewContext(src, sandbox, { filename: file, timeout: 60000 });
  return sandbox.module.exports;
}

function writeWhole(file, data) {
  const tmp = `${file}.tmp${process.pid}`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

function specBytes(w) {
  const n = w.shape.reduce((a, b) => a * b, 1);
  const q = w.quantization && w.quantization.dtype;
  if (q === "uint8") return n;
  if (q === "uint16" || q === "float16") return 2 * n;
  if (w.dtype === "float32" || w.dtype === "int32") return 4 * n;
  die(`${w.name}: dtype ${w.dtype} not handled`);
}

function main() {
  if (process.argv.length !== 4) die("usage: node unwrap-nsfwjs.js SRC_DIR OUT_DIR");
  const [src, out] = process.argv.slice(2);
  const model = unwrap(path.join(src, "model.min.js"));
  if (!model || typeof model !== "object" || !model.modelTopology || !Array.isArray(model.weightsManifest))
    die(`${src}/model.min.js: not a model.json object`);
  fs.mkdirSync(out, { recursive: true });
  let need = 0, have = 0, nshards = 0;
  for (const group of model.weightsManifest) {
    for (const w of group.weights) need += specBytes(w);
    group.paths = group.paths.map((p) => {
      const b64 = unwrap(path.join(src, `${p}.min.js`));
      if (typeof b64 !== "string") die(`${p}.min.js: not a base64 string`);
      const bytes = Buffer.from(b64, "base64");
      if (bytes.toString("base64") !== b64) die(`${p}.min.js: not clean base64`);
      const name = `${p}.bin`;
      writeWhole(path.join(out, name), bytes);
      have += bytes.length;
      nshards++;
      return name;
    });
  }
  if (have !== need) die(`${src}: the shards hold ${have} bytes, the weight specs take ${need}`);
  const json = {};
  if (model.format == null && model.modelTopology.model_config) json.format = "layers-model";
  Object.assign(json, model);
  writeWhole(path.join(out, "model.json"), JSON.stringify(json));
  console.log(`${out}: model.json (${json.format || "?"}), ${nshards} shard(s), ${have} bytes of weights`);
}

main();
