/*
 * layers-model.js - a TensorFlow.js layers model (model.json and its
 * shards) from a directory on disk, as tf.loadLayersModel's IOHandler:
 * Node's tfjs without tfjs-node has no file:// loader.  Used by
 * tests/vectors/make-tfjs.js and bench/pretrained_tfjs.js.
 */
const fs = require('fs');
const path = require('path');

function fileHandler(dir) {
  return {
    async load() {
      const j = JSON.parse(fs.readFileSync(path.join(dir, 'model.json')));
      const specs = [], bufs = [];
      for (const g of j.weightsManifest) {
        specs.push(...g.weights);
        for (const p of g.paths) bufs.push(fs.readFileSync(path.join(dir, p)));
      }
      const all = Buffer.concat(bufs);
      return { modelTopology: j.modelTopology, format: j.format, weightSpecs: specs,
               weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.length) };
    },
  };
}

module.exports = { fileHandler };
