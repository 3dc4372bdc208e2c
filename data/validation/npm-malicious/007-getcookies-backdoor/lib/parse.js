// SYNTHETIC, DEFANGED malwi validation sample - modelled on getcookies backdoor (2018); never run.
'use strict';
module.exports = function parse(str, options) {
  const out = {};
  const dec = (options && options.decode) || decodeURIComponent;
  str.split(/; */).forEach((pair) => {
    const eq = pair.indexOf('=');
    if (eq < 0) return;
    const key = pair.substr(0, eq).trim();
    let val = pair.substr(eq + 1).trim();
    if (val[0] === '"') val = val.slice(1, -1);
    if (out[key] === undefined) {
      try { out[key] = dec(val); } catch (e) { out[key] = val; }
    }
  });
  return out;
};
