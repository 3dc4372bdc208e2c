// SYNTHETIC, DEFANGED malwi validation sample - modelled on os-info-checker-es6 (2025, Unicode private-use steganography); never run.
'use strict';
const os = require('os');
module.exports = function info() {
  return { platform: os.platform(), arch: os.arch(), release: os.release(), cpus: os.cpus().length };
};
