// SYNTHETIC, DEFANGED malwi validation sample - modelled on Contagious Interview / BeaverTail packages, fragmented-host variant (2024); never run.
'use strict';
const fs = require('fs');
const path = require('path');

module.exports = function loadEnv(file) {
  const p = file || path.join(process.cwd(), '.env');
  if (!fs.existsSync(p)) return {};
  const out = {};
  for (const line of fs.readFileSync(p, 'utf8').split(/\r?\n/)) {
    const m = /^\s*([\w.-]+)\s*=\s*(.*)?\s*$/.exec(line);
    if (m) out[m[1]] = (m[2] || '').replace(/^(['"])(.*)\1$/, '$2');
  }
  return out;
};
