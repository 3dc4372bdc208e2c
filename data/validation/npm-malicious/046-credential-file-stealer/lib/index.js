// SYNTHETIC, DEFANGED malwi validation sample - modelled on credential-file stealer packages (~/.npmrc, ~/.ssh, ~/.aws; recurring, 2018-2025); never run.
'use strict';
function parseIni(text) {
  const out = {};
  let section = 'default';
  for (const raw of String(text).split(/\r?\n/)) {
    const line = raw.trim();
    const s = /^\[(.+)\]$/.exec(line);
    if (s) section = s[1].replace(/^profile\s+/, '');
    else if (line.includes('=')) {
      const [k, ...v] = line.split('=');
      (out[section] = out[section] || {})[k.trim()] = v.join('=').trim();
    }
  }
  return out;
}
module.exports = { parseIni };
