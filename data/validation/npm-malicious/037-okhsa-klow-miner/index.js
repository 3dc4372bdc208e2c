// SYNTHETIC, DEFANGED malwi validation sample - modelled on okhsa / klow / klown miner packages (2021); never run.
'use strict';
module.exports = function parse(ua) {
  ua = String(ua || '');
  const os = /Windows NT/.test(ua) ? 'Windows' : /Mac OS X/.test(ua) ? 'macOS' : /Android/.test(ua) ? 'Android' : /Linux/.test(ua) ? 'Linux' : 'unknown';
  const m = /(Firefox|Chrome|Safari)\/([\d.]+)/.exec(ua);
  return { os, browser: m ? m[1] : 'unknown', version: m ? m[2] : '' };
};
