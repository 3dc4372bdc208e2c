// SYNTHETIC, DEFANGED malwi validation sample - modelled on the paired-package npm campaign attributed to Lazarus (2023); never run.
'use strict';
const fs = require('fs');
module.exports = function readToken(file) {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch (e) {
    return null;
  }
};
