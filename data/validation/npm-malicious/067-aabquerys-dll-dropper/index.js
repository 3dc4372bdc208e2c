// SYNTHETIC, DEFANGED malwi validation sample - modelled on aabquerys / aabvaluer droppers (2023, DLL side-loading); never run.
'use strict';
function must(field, value) {
  return { bool: { must: [{ match: { [field]: value } }] } };
}
function range(field, gte, lte) {
  return { range: { [field]: { gte, lte } } };
}
module.exports = { must, range };
